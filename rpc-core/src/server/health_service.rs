//! gRPC's standard health service, `grpc.health.v1.Health`, as every bound server hosts it
//! (Kubernetes' gRPC probes, grpc-health-probe and load balancers ask it): `Check` answers
//! at once, `Watch` streams the status and every change. A hosted service, or the empty
//! name for the whole server, is `SERVING` while the provider is started, online and not
//! shutting down, else `NOT_SERVING`; `Check` of a service it does not host is `NOT_FOUND`,
//! as the protocol asks. It is not registered in registries, and needs no token.

use std::collections::HashSet;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use prost::Message;
use rpc_codec::SerializationId;

use super::phase::Phase;
use crate::provider::RpcService;
use crate::{
    BoxFuture, CallFuture, MessageStream, MethodDescriptor, MethodKind, Request, Response, ServiceDescriptor, Status,
};

pub(crate) const HEALTH_SERVICE: &str = "grpc.health.v1.Health";

static DESCRIPTOR: ServiceDescriptor = ServiceDescriptor {
    name: HEALTH_SERVICE,
    version: "",
    serialization: SerializationId::Protobuf,
    methods: &[
        MethodDescriptor {
            name: "Check",
            arguments: &["request"],
            idempotent: true,
            oneway: false,
            kind: MethodKind::Unary,
            java_parameters: "Lgrpc/health/v1/HealthCheckRequest;",
            java_return: "Lgrpc/health/v1/HealthCheckResponse;",
        },
        MethodDescriptor {
            name: "Watch",
            arguments: &["request"],
            idempotent: true,
            oneway: false,
            kind: MethodKind::ServerStreaming,
            java_parameters: "Lgrpc/health/v1/HealthCheckRequest;",
            java_return: "Lgrpc/health/v1/HealthCheckResponse;",
        },
    ],
};

/// `grpc.health.v1.HealthCheckRequest`.
#[derive(Clone, PartialEq, Message)]
struct HealthCheckRequest {
    #[prost(string, tag = "1")]
    service: String,
}

/// `grpc.health.v1.HealthCheckResponse`.
#[derive(Clone, PartialEq, Message)]
struct HealthCheckResponse {
    #[prost(enumeration = "ServingStatus", tag = "1")]
    status: i32,
}

/// `grpc.health.v1.HealthCheckResponse.ServingStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
enum ServingStatus {
    Unknown = 0,
    Serving = 1,
    NotServing = 2,
    /// Only `Watch` says it, of a service the server does not host.
    ServiceUnknown = 3,
}

/// The health service of one provider.
#[derive(Clone)]
pub(crate) struct HealthService {
    phase: Phase,
    /// What it hosts; the empty name is the server as a whole.
    services: Arc<HashSet<String>>,
}

impl HealthService {
    pub(crate) fn new(phase: Phase, hosted: impl IntoIterator<Item = String>) -> HealthService {
        let mut services: HashSet<String> = hosted.into_iter().collect();
        services.insert(String::new());
        HealthService { phase, services: Arc::new(services) }
    }

    fn status(&self, service: &str, serving: bool) -> ServingStatus {
        match (self.services.contains(service), serving) {
            (false, _) => ServingStatus::ServiceUnknown,
            (true, true) => ServingStatus::Serving,
            (true, false) => ServingStatus::NotServing,
        }
    }

    fn check(&self, request: &Request) -> Result<Response, Status> {
        let asked = decode(&request.body)?;
        match self.status(&asked.service, self.phase.is_ready()) {
            ServingStatus::ServiceUnknown => {
                Err(Status::not_found(format!("{HEALTH_SERVICE}: no service {:?} here", asked.service)))
            }
            status => Ok(Response::new(SerializationId::Protobuf, encode(status))),
        }
    }

    /// The status now, then at every change; it ends once the provider is shutting down
    /// (after saying `NOT_SERVING`), so that an open watch does not hold the shutdown up.
    async fn watch(self, inbound: MessageStream) -> Result<MessageStream, Status> {
        let mut inbound = inbound;
        let first = match inbound.next().await {
            Some(message) => message?,
            None => return Err(Status::invalid_argument(format!("{HEALTH_SERVICE}/Watch: no request message"))),
        };
        let asked = decode(&first)?;
        let mut serving = self.phase.watch_serving();
        serving.mark_changed();
        let updates = futures_util::stream::unfold(Some(serving), move |state| {
            let this = self.clone();
            let service = asked.service.clone();
            async move {
                let mut serving = state?;
                serving.changed().await.ok()?;
                let status = this.status(&service, *serving.borrow_and_update());
                let next = (!this.phase.is_stopping()).then_some(serving);
                Some((Ok(encode(status)), next))
            }
        });
        Ok(updates.boxed())
    }
}

fn decode(body: &[u8]) -> Result<HealthCheckRequest, Status> {
    HealthCheckRequest::decode(body)
        .map_err(|e| Status::invalid_argument(format!("{HEALTH_SERVICE}: not a HealthCheckRequest: {e}")))
}

fn encode(status: ServingStatus) -> Bytes {
    let mut body = BytesMut::new();
    // Writing into a growable buffer cannot fail.
    let _ = HealthCheckResponse { status: status as i32 }.encode(&mut body);
    body.freeze()
}

impl RpcService for HealthService {
    fn descriptor(&self) -> &'static ServiceDescriptor {
        &DESCRIPTOR
    }

    fn call(&self, request: Request) -> CallFuture {
        let result = match request.method() {
            "Check" => self.check(&request),
            "Watch" => Err(Status::unimplemented(format!("{HEALTH_SERVICE}/Watch streams: call it as a stream"))),
            other => Err(Status::unimplemented(format!("{HEALTH_SERVICE} has no method {other:?}"))),
        };
        CallFuture::from(std::future::ready(result))
    }

    fn call_streaming(&self, request: Request, inbound: MessageStream) -> BoxFuture<Result<MessageStream, Status>> {
        match request.method() {
            "Watch" => Box::pin(self.clone().watch(inbound)),
            other => {
                let status = Status::unimplemented(format!("{HEALTH_SERVICE} has no streaming method {other:?}"));
                Box::pin(std::future::ready(Err(status)))
            }
        }
    }
}
