use std::net::SocketAddr;

use crate::Protocol;

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
}

impl ConnectionInfo {
    pub(crate) fn new(peer_addr: Option<SocketAddr>, local_addr: Option<SocketAddr>) -> ConnectionInfo {
        ConnectionInfo { peer_addr, local_addr, protocol: Protocol::default() }
    }
}
