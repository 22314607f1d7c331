use std::collections::HashMap;
use std::future::ready;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::connection_info::HostedServices;
use crate::{BoxFuture, MessageStream, MethodKind, Request, Response, ServiceDescriptor, Status};

/// Bytes a [`CallFuture`] holds in place. A generated handler's future (the call context,
/// the decoded arguments and the user's future) fits when the user's future is small — a
/// 1 KiB echo's is 448 bytes; a larger one is boxed. Every call moves this many bytes a few
/// times, so bigger is not free.
pub const CALL_FUTURE_INLINE: usize = 512;

/// The future of one call to an [`RpcService`]: a `dyn Future` stored in place rather than
/// boxed, so serving a call allocates nothing for it. Futures larger than
/// [`CALL_FUTURE_INLINE`] are boxed inside it.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// let ready = rpc::CallFuture::from_or_box(async { Err(rpc::Status::unimplemented("not yet")) });
/// # drop(ready);
/// ```
pub type CallFuture = stackfuture::StackFuture<'static, Result<Response, Status>, CALL_FUTURE_INLINE>;

/// A service a server can host: what `#[rpc::service]` generates as `XServer<T>`.
///
/// `call` decodes the arguments of `request.method()`, runs the user's method and encodes its
/// result with the request's serialization. An unknown method answers `Unimplemented`.
pub trait RpcService: Send + Sync + 'static {
    /// What the service offers: name, version, methods.
    fn descriptor(&self) -> &'static ServiceDescriptor;
    /// Runs a unary (or oneway) call.
    fn call(&self, request: Request) -> CallFuture;

    /// Runs a streaming method: `request` names it (its body is unused), `inbound` carries
    /// the caller's messages (exactly one for a server-streaming method). Resolves to the
    /// reply messages (one for a client-streaming method). Services without streaming
    /// methods keep this default.
    fn call_streaming(&self, request: Request, inbound: MessageStream) -> BoxFuture<Result<MessageStream, Status>> {
        drop(inbound);
        let status =
            Status::unimplemented(format!("{} has no streaming method {:?}", self.descriptor().name, request.method()));
        Box::pin(ready(Err(status)))
    }
}

#[derive(Clone)]
struct Route {
    version: &'static str,
    group: String,
    service: Arc<dyn RpcService>,
    /// Calls need the provider's token (every service but the provider's own
    /// `MetadataService`, as Dubbo exports it).
    guarded: bool,
}

/// Routes requests by service name, version and group to the hosted services. It is the
/// innermost tower service of a server; layers wrap it, and every call of every protocol,
/// unary or streaming, passes through them to it.
#[derive(Clone, Default)]
pub struct Router {
    /// Keyed by service name. Hashed with foldhash, not SipHash: every call looks its service
    /// up here, and the names are the provider's own (a caller cannot add keys to collide).
    routes: Arc<HashMap<&'static str, Vec<Route>, foldhash::fast::RandomState>>,
    /// Dubbo's token: calls to guarded services must carry it.
    token: Option<Arc<str>>,
}

impl Router {
    /// Hosts `service` under `group` ("" for none). A second service with the same name,
    /// version and group replaces the first.
    pub fn add_service(&mut self, group: impl Into<String>, service: impl RpcService) {
        self.add_route(group.into(), Arc::new(service), true);
    }

    /// Hosts `service` under `group`, callable without the provider's token.
    pub(crate) fn add_unguarded_service(&mut self, group: impl Into<String>, service: impl RpcService) {
        self.add_route(group.into(), Arc::new(service), false);
    }

    /// Requires every call to a service (but those added unguarded) to carry `token`.
    pub(crate) fn require_token(&mut self, token: &str) {
        self.token = Some(token.into());
    }

    fn add_route(&mut self, group: String, service: Arc<dyn RpcService>, guarded: bool) {
        let descriptor = service.descriptor();
        let route = Route { version: descriptor.version, group, service, guarded };
        let routes = Arc::make_mut(&mut self.routes);
        let same_name = routes.entry(descriptor.name).or_default();
        same_name.retain(|r| !(r.version == route.version && r.group == route.group));
        same_name.push(route);
    }

    /// Every hosted service with its group: what a provider registers.
    pub fn registrations(&self) -> Vec<(&'static ServiceDescriptor, String)> {
        self.routes.values().flatten().map(|r| (r.service.descriptor(), r.group.clone())).collect()
    }

    /// The descriptors of every hosted service.
    pub fn services(&self) -> Vec<&'static ServiceDescriptor> {
        self.routes.values().flatten().map(|r| r.service.descriptor()).collect()
    }

    /// The service for `request`: exact version and group; a request without a version takes
    /// the first service of that name in its group.
    pub(crate) fn find(&self, request: &Request) -> Result<&Arc<dyn RpcService>, Status> {
        self.find_route(request).map(|r| &r.service)
    }

    fn find_route(&self, request: &Request) -> Result<&Route, Status> {
        self.route(request.service(), request.version(), request.group()).ok_or_else(|| self.not_found(request))
    }

    fn route(&self, service: &str, version: &str, group: &str) -> Option<&Route> {
        let candidates = self.routes.get(service).map(Vec::as_slice).unwrap_or_default();
        candidates.iter().find(|r| r.group == group && (version.is_empty() || r.version == version))
    }

    /// What `request`'s method takes and returns; `Unary` for a method the service lacks (the
    /// unary path then answers `Unimplemented`).
    pub(crate) fn method_kind(&self, request: &Request) -> Result<MethodKind, Status> {
        let service = self.find(request)?;
        Ok(service.descriptor().method(request.method()).map_or(MethodKind::Unary, |m| m.kind))
    }

    fn not_found(&self, request: &Request) -> Status {
        let mut hosted: Vec<String> = self
            .routes
            .values()
            .flatten()
            .map(|r| format!("{}:{}{}", r.service.descriptor().name, r.version, group_suffix(&r.group)))
            .collect();
        hosted.sort();
        Status::not_found(format!(
            "no service {}:{}{} on this provider (it hosts: {})",
            request.service(),
            request.version(),
            group_suffix(request.group()),
            if hosted.is_empty() { "nothing".to_string() } else { hosted.join(", ") }
        ))
    }
}

fn group_suffix(group: &str) -> String {
    if group.is_empty() {
        String::new()
    } else {
        format!(" (group {group})")
    }
}

/// How a provider-side request finds its service's descriptor
/// ([`Request::descriptor`](crate::Request::descriptor)).
impl HostedServices for Router {
    fn descriptor(&self, service: &str, version: &str, group: &str) -> Option<&'static ServiceDescriptor> {
        self.route(service, version, group).map(|route| route.service.descriptor())
    }
}

impl tower::Service<Request> for Router {
    type Response = Response;
    type Error = Status;
    type Future = CallFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    /// Runs a unary call, or — for a request carrying messages — a streaming one, whose
    /// reply messages come back in the [`Response`].
    fn call(&mut self, mut request: Request) -> Self::Future {
        let route = match self.find_route(&request) {
            Ok(route) => route,
            Err(status) => return CallFuture::from(ready(Err(status))),
        };
        if let (Some(token), true) = (&self.token, route.guarded) {
            if let Err(refused) = crate::auth::check_token(token, &request) {
                return CallFuture::from(ready(Err(refused)));
            }
        }
        let service = &route.service;
        match request.take_messages() {
            None => service.call(request),
            Some(inbound) => {
                let serialization = request.serialization;
                let started = service.call_streaming(request, inbound);
                CallFuture::from_or_box(async move { Ok(Response::streaming(serialization, started.await?)) })
            }
        }
    }
}
