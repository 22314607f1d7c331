use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use bytestring::ByteString;
use rpc_codec::Attachments;

use crate::auth::Principal;
use crate::tls::PeerIdentity;
use crate::Request;

tokio::task_local! {
    static CURRENT: CallContext;
}

/// What a provider's handler may ask about the call it is serving (Dubbo's `RpcContext`):
/// the caller's attachments and deadline. Set for the handler's task by generated servers;
/// tasks the handler spawns do not inherit it.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// # async fn handler() {
/// if let Some(context) = rpc::CallContext::current() {
///     let tenant = context.attachments.get("tenant");
///     let time_left = context.remaining();
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct CallContext {
    /// The service's wire name.
    pub service: ByteString,
    /// The method's wire name.
    pub method: ByteString,
    /// The version the caller asked for.
    pub version: ByteString,
    /// The group the caller asked for.
    pub group: ByteString,
    /// When the caller stops waiting, if it set a deadline.
    pub deadline: Option<Instant>,
    /// The caller's attachments.
    pub attachments: Attachments,
    /// With mutual TLS, who the caller's verified certificate says it is.
    pub peer_identity: Option<Arc<PeerIdentity>>,
    /// Who an authenticator ([`AuthenticateLayer`](crate::auth::AuthenticateLayer)) says
    /// made the call.
    pub principal: Option<Arc<Principal>>,
}

impl CallContext {
    /// A context for `request` (copying its metadata).
    pub fn from_request(request: &Request) -> CallContext {
        CallContext {
            service: request.metadata.service.clone(),
            method: request.metadata.method.clone(),
            version: request.metadata.version.clone(),
            group: request.metadata.group.clone(),
            deadline: request.deadline(),
            attachments: request.metadata.attachments.clone(),
            peer_identity: peer_identity_of(request),
            principal: Principal::of(request).cloned(),
        }
    }

    /// Moves the routing metadata and attachments out of `request` (leaving them empty) into
    /// a context; cheaper than [`CallContext::from_request`] once the request is decoded.
    pub fn take_from(request: &mut Request) -> CallContext {
        let metadata = std::mem::take(&mut request.metadata);
        let peer_identity = peer_identity_of(request);
        let principal = Principal::of(request).cloned();
        CallContext {
            service: metadata.service,
            method: metadata.method,
            version: metadata.version,
            group: metadata.group,
            deadline: request.deadline(),
            attachments: metadata.attachments,
            peer_identity,
            principal,
        }
    }

    /// The context of the call this task serves, if any.
    pub fn current() -> Option<CallContext> {
        CURRENT.try_with(Clone::clone).ok()
    }

    /// Time left before the caller stops waiting.
    pub fn remaining(&self) -> Option<std::time::Duration> {
        self.deadline.map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Runs `future` with this context as the current one.
    // A plain function, not an `async fn`: that would keep the context and the future twice.
    pub fn scope<F: Future>(self, future: F) -> impl Future<Output = F::Output> {
        CURRENT.scope(self, future)
    }
}

fn peer_identity_of(request: &Request) -> Option<Arc<PeerIdentity>> {
    request.connection().and_then(|c| c.peer_identity.clone())
}
