//! The consumer's side of Dubbo's `MetadataService`: how a subscription learns what an
//! application instance serves when the instance keeps its metadata `local` (a Java
//! provider's default), by calling `getMetadataInfo(revision)` on it, as Dubbo's
//! `MetadataUtils.getRemoteMetadata` does.

use std::time::Duration;

use bytes::BytesMut;
use rpc_codec::{Hessian2, Serialization, SerializationId};
use rpc_registry::{BoxFuture, MetadataClient, MetadataInfo, MetadataRequest, RegistryError};
use tracing::Instrument;

use crate::metadata_service::{JavaMetadataInfo, DESCRIPTOR, GET_METADATA_INFO};
use crate::transport::{Connection, ConnectionConfig};
use crate::{Protocol, Request, Status};

/// How long one question may take, connecting included.
const TIMEOUT: Duration = Duration::from_secs(3);

/// Asks over a connection of its own per question: a subscription asks once per revision of an
/// application, rarely enough that keeping connections would cost more than it saves.
pub(crate) struct MetadataServiceClient;

impl MetadataClient for MetadataServiceClient {
    fn metadata(&self, request: MetadataRequest) -> BoxFuture<'static, Result<Option<MetadataInfo>, RegistryError>> {
        let span = tracing::debug_span!(
            "rpc.metadata",
            application = %request.application,
            address = %request.address,
            revision = %request.revision
        );
        Box::pin(
            async move { ask(request).await.map_err(|e| RegistryError::Unavailable(e.to_string())) }.instrument(span),
        )
    }
}

async fn ask(request: MetadataRequest) -> Result<Option<MetadataInfo>, Status> {
    let protocol = Protocol::from_registry_name(&request.protocol).ok_or_else(|| {
        Status::unimplemented(format!("a MetadataService over {:?} is not called here", request.protocol))
    })?;
    let config =
        ConnectionConfig { protocol, connect_timeout: TIMEOUT, heartbeat_interval: None, ..Default::default() };
    let connection = Connection::connect_address(request.address.as_str(), &config).await?;
    let mut body = BytesMut::new();
    <Hessian2 as Serialization<String>>::serialize(&request.revision, &mut body)
        .map_err(|e| Status::internal(format!("the revision could not be encoded: {e}")))?;
    let mut call = Request::new(DESCRIPTOR.name, GET_METADATA_INFO, body.freeze()).with_timeout(TIMEOUT);
    call.serialization = SerializationId::Hessian2;
    call.set_version(DESCRIPTOR.version);
    call.set_group(request.application.as_str());
    call.set_descriptor(&DESCRIPTOR);
    let reply = connection.call(call).await?;
    let metadata: Option<JavaMetadataInfo> =
        rpc_codec::__deserialize!(reply.serialization, Option<JavaMetadataInfo>, &reply.body)
            .map_err(|e| Status::internal(format!("the MetadataService's answer is not Dubbo's MetadataInfo: {e}")))?;
    Ok(metadata.map(MetadataInfo::from))
}
