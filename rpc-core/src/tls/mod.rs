//! TLS and mutual TLS on every protocol, with rustls.
//!
//! A server with [`ServerTls`] tells a TLS connection from a plaintext one by its first byte
//! (a TLS record starts `0x16`), before it tells the protocols apart, so one port serves
//! both if the settings allow plaintext. Inside TLS, the ALPN id the client and server agree
//! on names the protocol (`h2` for gRPC/Triple, `http/1.1` for REST, `rpc-binary` for the
//! binary protocol); dubbo2 clients offer none and are told from their first bytes, as in
//! plaintext. A client with [`ClientTls`] (in its
//! [`ConnectionConfig`](crate::transport::ConnectionConfig)) connects over TLS in any
//! protocol.
//!
//! Cryptography is `ring`'s, through rustls; no OpenSSL.

mod alpn;
mod client;
mod peer_identity;
mod pem;
mod server;

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};

pub use client::{ClientTls, ClientTlsBuilder};
pub use peer_identity::PeerIdentity;
pub use server::{ClientAuth, ServerTls, ServerTlsBuilder};

use crate::Protocol;

/// The first byte of a TLS record carrying a handshake: how a ClientHello begins.
pub(crate) const HANDSHAKE_RECORD: u8 = 0x16;

fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server-side TLS connection, once its handshake is done: the stream, the protocol its
/// ALPN id names (if one was agreed) and the client's verified identity (with mutual TLS).
pub(crate) struct Accepted<IO> {
    pub(crate) stream: tokio_rustls::server::TlsStream<IO>,
    pub(crate) protocol: Option<Protocol>,
    pub(crate) peer_identity: Option<Arc<PeerIdentity>>,
}

/// Completes the server side of a TLS handshake on `io` (whose first bytes are the
/// ClientHello).
pub(crate) async fn accept<IO>(tls: &ServerTls, io: IO) -> std::io::Result<Accepted<IO>>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let stream = tls.acceptor().accept(io).await?;
    let (_, session) = stream.get_ref();
    let protocol = alpn::protocol_of(session.alpn_protocol());
    let peer_identity = match session.peer_certificates() {
        Some([leaf, ..]) if tls.verifies_clients() => PeerIdentity::from_certificate(leaf).map(Arc::new),
        _ => None,
    };
    Ok(Accepted { stream, protocol, peer_identity })
}
