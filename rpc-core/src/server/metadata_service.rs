//! Dubbo's `MetadataService`, as a provider with application-level registration serves it:
//! a Java Dubbo consumer that finds one of our application instances whose metadata is stored
//! `local` (Dubbo's default, and the only storage Dubbo's etcd discovery has) calls
//! `getMetadataInfo(revision)` on it to learn what the instance serves. It is hosted under the
//! application's name as group, version `1.0.0`, and not registered, as Dubbo exports it
//! (`ConfigurableMetadataServiceExporter`).

use std::sync::Arc;

use bytes::BytesMut;
use rpc_registry::MetadataInfo;

use crate::metadata_service::{JavaMetadataInfo, DESCRIPTOR, GET_METADATA_INFO, METADATA_SERVICE};
use crate::provider::RpcService;
use crate::{CallFuture, Request, Response, ServiceDescriptor, Status};

/// Answers `getMetadataInfo(revision)` with the application's metadata when the revision is
/// its own, else null, as Dubbo's `MetadataServiceDelegation` does.
#[derive(Clone)]
pub(crate) struct MetadataService {
    metadata: Arc<JavaMetadataInfo>,
}

impl MetadataService {
    pub(crate) fn new(metadata: &MetadataInfo) -> MetadataService {
        MetadataService { metadata: Arc::new(JavaMetadataInfo::of(metadata)) }
    }

    fn answer(&self, revision: &str) -> Option<JavaMetadataInfo> {
        (!revision.is_empty() && revision == self.metadata.revision).then(|| JavaMetadataInfo::clone(&self.metadata))
    }

    fn get_metadata_info(&self, request: &Request) -> Result<Response, Status> {
        let serialization = request.serialization;
        let revision: String = rpc_codec::__deserialize!(serialization, String, &request.body).map_err(|e| {
            Status::invalid_argument(format!("{METADATA_SERVICE}.{GET_METADATA_INFO} takes a revision string: {e}"))
        })?;
        let answer = self.answer(&revision);
        tracing::debug!(%revision, found = answer.is_some(), "metadata asked for");
        let mut body = BytesMut::new();
        rpc_codec::__serialize!(serialization, Option<JavaMetadataInfo>, &answer, &mut body)
            .map_err(|e| Status::internal(format!("the application's metadata could not be encoded: {e}")))?;
        Ok(Response::new(serialization, body.freeze()))
    }
}

impl RpcService for MetadataService {
    fn descriptor(&self) -> &'static ServiceDescriptor {
        &DESCRIPTOR
    }

    fn call(&self, request: Request) -> CallFuture {
        let result = match request.method() {
            GET_METADATA_INFO => self.get_metadata_info(&request),
            other => Err(Status::unimplemented(format!("{METADATA_SERVICE} has no method {other:?} here"))),
        };
        CallFuture::from(std::future::ready(result))
    }
}

#[cfg(test)]
mod tests {
    use rpc_codec::{Hessian2, Serialization, SerializationId};
    use rpc_registry::{ApplicationInstance, Instance};

    use super::*;

    fn service() -> MetadataService {
        let mut dubbo = Instance::new("org.apache.dubbo.samples.api.GreetingsService", "10.0.0.7:20880");
        dubbo.protocol = "dubbo".into();
        MetadataService::new(&MetadataInfo::of(&ApplicationInstance::new("greetings", "10.0.0.7:20880").service(dubbo)))
    }

    fn call(service: &MetadataService, revision: &str) -> Result<Response, Status> {
        let mut body = BytesMut::new();
        <Hessian2 as Serialization<String>>::serialize(&revision.to_string(), &mut body).unwrap();
        let mut request = Request::new(METADATA_SERVICE, GET_METADATA_INFO, body.freeze());
        request.serialization = SerializationId::Hessian2;
        service.get_metadata_info(&request)
    }

    #[test]
    fn its_own_revision_gets_the_metadata_as_java_objects() {
        let service = service();
        let revision = service.metadata.revision.clone();
        let reply = call(&service, &revision).unwrap();
        let text = String::from_utf8_lossy(&reply.body);
        assert!(text.contains("org.apache.dubbo.metadata.MetadataInfo"), "{text}");
        assert!(text.contains("org.apache.dubbo.metadata.MetadataInfo$ServiceInfo"), "{text}");
        assert!(text.contains(&revision), "{text}");
        let read: Option<JavaMetadataInfo> = <Hessian2 as Serialization<_>>::deserialize(&reply.body).unwrap();
        let read = read.expect("the metadata, not null");
        assert_eq!((read.app.as_str(), read.revision.as_str()), ("greetings", revision.as_str()));
        let dubbo = &read.services["org.apache.dubbo.samples.api.GreetingsService:dubbo"];
        assert_eq!((dubbo.port, dubbo.protocol.as_deref(), dubbo.group.as_deref()), (20880, Some("dubbo"), None));
        // A revision it does not serve (or none) is null, as Dubbo answers it.
        assert_eq!(&call(&service, "0123").unwrap().body[..], b"N");
        assert_eq!(&call(&service, "").unwrap().body[..], b"N");
    }

    #[test]
    fn other_methods_and_bad_arguments_are_refused() {
        let service = service();
        let mut request = Request::new(METADATA_SERVICE, GET_METADATA_INFO, bytes::Bytes::from_static(b"\xff"));
        request.serialization = SerializationId::Hessian2;
        let status = service.get_metadata_info(&request).unwrap_err();
        assert_eq!(status.code(), crate::Code::InvalidArgument);
        assert!(DESCRIPTOR.method("getMetadataURL").is_none());
    }
}
