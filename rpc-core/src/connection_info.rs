use std::net::SocketAddr;
use std::sync::Arc;

use crate::tls::PeerIdentity;
use crate::{Protocol, ServiceDescriptor};

/// Who is on the other end of the connection a request arrived on: the provider fills it in
/// for every request, so a layer (auth, limits, metrics) can read it with
/// [`Request::connection`](crate::Request::connection).
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// fn caller_of(request: &rpc::Request) -> String {
///     match request.connection().and_then(|c| c.peer_addr) {
///         Some(peer) => peer.to_string(),
///         None => "in-process".to_string(),
///     }
/// }
/// # assert_eq!(caller_of(&rpc::Request::new("s", "m", bytes::Bytes::new())), "in-process");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// The caller's address; `None` for a stream without one (an in-memory duplex).
    pub peer_addr: Option<SocketAddr>,
    /// The provider's own address on this connection.
    pub local_addr: Option<SocketAddr>,
    /// The wire protocol the connection speaks.
    pub protocol: Protocol,
    /// Whether the connection is TLS.
    pub tls: bool,
    /// With mutual TLS, who the client's verified certificate says it is.
    pub peer_identity: Option<Arc<PeerIdentity>>,
}

impl ConnectionInfo {
    pub(crate) fn new(peer_addr: Option<SocketAddr>, local_addr: Option<SocketAddr>) -> ConnectionInfo {
        ConnectionInfo { peer_addr, local_addr, protocol: Protocol::default(), tls: false, peer_identity: None }
    }
}

/// What a provider hosts, as a request can ask it: the descriptor of the service that a
/// service name, version and group route to. The router implements it; a request looks a
/// descriptor up only when something asks for it, so a call pays nothing for it otherwise.
pub(crate) trait HostedServices: Send + Sync {
    fn descriptor(&self, service: &str, version: &str, group: &str) -> Option<&'static ServiceDescriptor>;
}

/// A connection as each of its requests carries it (one reference count per call): who is
/// on the other end, and what the provider hosts.
pub(crate) struct Arrival {
    pub(crate) info: ConnectionInfo,
    pub(crate) hosted: Arc<dyn HostedServices>,
}

impl std::fmt::Debug for Arrival {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.info.fmt(f)
    }
}
