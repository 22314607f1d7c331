//! The wire protocols, one module each, behind one seam.
//!
//! A server port speaks every protocol: [`serve_detected`] reads the first bytes of an
//! accepted stream into a buffer, asks each protocol's `detect` whether they are its own, and
//! hands the stream — with those bytes put back in front ([`Rewind`]) — to the protocol that
//! claims it. Nothing here needs `peek`, so a stream that is itself unwrapped from another
//! layer (TLS) is classified the same way.
//!
//! Each protocol module has a `server` (serve one connection given a
//! [`ConnectionContext`]) and a `client` (one connection to a provider, behind
//! [`crate::transport::Connection`]). Adding a protocol means one module here, one row in
//! [`DETECTORS`], one variant of [`crate::Protocol`] and one of the client's connection
//! enum; `docs/ARCHITECTURE.md` ("Adding a protocol") lists the files.

pub(crate) mod binary;
mod call_path;
mod client_connection;
mod config;
mod connected;
mod context;
pub(crate) mod dubbo;
mod graceful;
pub(crate) mod grpc;
mod idle_timer;
mod log_limit;
pub(crate) mod mux;
mod request_body;
mod rest;
mod rewind;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

pub(crate) use call_path::service_and_method;
pub(crate) use client_connection::ProtocolConnection;
pub use config::ConnectionConfig;
pub use connected::Connected;
pub(crate) use connected::Unaddressed;
pub(crate) use context::{Annotator, ConnectionContext};
pub(crate) use idle_timer::IdleTimer;
pub(crate) use log_limit::LogLimit;
pub(crate) use request_body::{read_chunks, read_whole, BodyError};
pub(crate) use rewind::Rewind;

use crate::provider::ServiceStack;
use crate::Protocol;

/// What a protocol makes of the first bytes of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detection {
    /// These bytes begin this protocol.
    Match,
    /// Too few bytes to tell; read more.
    NeedMore,
    /// Not this protocol.
    No,
}

/// Tells whether a connection's first bytes begin one protocol; looks at the prefix only
/// and never allocates.
pub(crate) type Detector = fn(&[u8]) -> Detection;

/// Every protocol a server port speaks, with its detector, in the order they are asked.
pub(crate) const DETECTORS: &[(Protocol, Detector)] = &[
    (Protocol::Binary, binary::detect),
    (Protocol::Dubbo, dubbo::detect),
    (Protocol::Grpc, grpc::detect),
    (Protocol::Rest, rest::detect),
];

/// Detection of a protocol whose every frame starts with a two-byte magic.
fn detect_magic(prefix: &[u8], magic: u16) -> Detection {
    let magic = magic.to_be_bytes();
    match prefix {
        [] => Detection::NeedMore,
        [first] if *first == magic[0] => Detection::NeedMore,
        [first, second, ..] if [*first, *second] == magic => Detection::Match,
        _ => Detection::No,
    }
}

/// The most bytes any detector needs to decide.
const MAX_DETECT_LEN: usize = 24;

/// The protocol `prefix` begins, `Ok(None)` when more bytes are needed, or the error that
/// no protocol matches.
pub(crate) fn classify(prefix: &[u8]) -> Result<Option<Protocol>, ()> {
    let mut undecided = false;
    for (protocol, detect) in DETECTORS {
        match detect(prefix) {
            Detection::Match => return Ok(Some(*protocol)),
            Detection::NeedMore => undecided = true,
            Detection::No => {}
        }
    }
    if undecided && prefix.len() < MAX_DETECT_LEN {
        Ok(None)
    } else {
        Err(())
    }
}

/// How a connection opens: with a TLS handshake, or in one protocol's plaintext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opening {
    Tls,
    Plain(Protocol),
}

/// Reads until the first bytes say how the connection opens: `Ok(None)` if it closes
/// first, `Ok(Some(Err(())))` if they begin nothing this server speaks. TLS is told only
/// when `tls` (not inside TLS already).
async fn read_opening<R: AsyncRead + Unpin>(
    io: &mut R,
    prefix: &mut BytesMut,
    tls: bool,
) -> std::io::Result<Option<Result<Opening, ()>>> {
    loop {
        if io.read_buf(prefix).await? == 0 {
            return Ok(None);
        }
        if tls && prefix[0] == crate::tls::HANDSHAKE_RECORD {
            return Ok(Some(Ok(Opening::Tls)));
        }
        match classify(prefix) {
            Ok(Some(protocol)) => return Ok(Some(Ok(Opening::Plain(protocol)))),
            Ok(None) => continue,
            Err(()) => return Ok(Some(Err(()))),
        }
    }
}

/// [`read_opening`] within `deadline` (or until shutdown); `None` when the connection is
/// to be closed, which it logs.
async fn opening_within<R: AsyncRead + Unpin>(
    io: &mut R,
    prefix: &mut BytesMut,
    tls: bool,
    deadline: tokio::time::Instant,
    lifecycle: &crate::provider::Lifecycle,
) -> Option<Opening> {
    let detected = tokio::select! {
        detected = tokio::time::timeout_at(deadline, read_opening(io, prefix, tls)) => detected,
        _ = lifecycle.shutdown.cancelled() => return None,
    };
    match detected {
        Ok(Ok(Some(Ok(opening)))) => Some(opening),
        Ok(Ok(Some(Err(())))) => {
            tracing::debug!(first_bytes = ?&prefix[..], "speaks no protocol this server knows; closing");
            None
        }
        Ok(Ok(None)) => {
            tracing::debug!("closed before saying which protocol it speaks");
            None
        }
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "connection lost before its first bytes");
            None
        }
        Err(_) => {
            tracing::debug!("too few bytes within the idle timeout to tell the protocol; closing");
            None
        }
    }
}

/// Serves an accepted stream in the protocol its first bytes announce, over TLS if it opens
/// with a TLS handshake and the server has TLS settings. A client that sends too little to
/// tell (or does not finish its TLS handshake) within the idle timeout is disconnected, as
/// is one whose bytes begin no protocol this server speaks, and one in plaintext where the
/// server requires TLS.
pub(crate) async fn serve_detected<IO, S>(mut io: IO, context: ConnectionContext<S>)
where
    IO: Connected,
    S: ServiceStack,
{
    let deadline = tokio::time::Instant::now() + context.config.idle_timeout;
    let mut prefix = BytesMut::with_capacity(MAX_DETECT_LEN);
    let Some(opening) = opening_within(&mut io, &mut prefix, true, deadline, &context.lifecycle).await else {
        return;
    };
    let protocol = match (opening, &context.config.tls) {
        (Opening::Plain(protocol), None) => protocol,
        (Opening::Plain(protocol), Some(tls)) if tls.allows_plaintext() => protocol,
        (Opening::Plain(_), Some(_)) => return tracing::debug!("plaintext on a port that requires TLS; closing"),
        (Opening::Tls, None) => return tracing::debug!("a TLS handshake on a port without TLS settings; closing"),
        (Opening::Tls, Some(tls)) => {
            let tls = tls.clone();
            return serve_tls(Rewind::new(prefix.freeze(), io), &tls, deadline, context).await;
        }
    };
    serve_protocol(io, prefix.freeze(), protocol, context).await
}

/// Completes the TLS handshake (by `deadline`), then serves the protocol its ALPN id
/// names, or its first decrypted bytes when none was agreed.
async fn serve_tls<IO, S>(
    io: IO,
    tls: &crate::tls::ServerTls,
    deadline: tokio::time::Instant,
    context: ConnectionContext<S>,
) where
    IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    S: ServiceStack,
{
    let accepted = tokio::select! {
        accepted = tokio::time::timeout_at(deadline, crate::tls::accept(tls, io)) => accepted,
        _ = context.lifecycle.shutdown.cancelled() => return,
    };
    let mut accepted = match accepted {
        Ok(Ok(accepted)) => accepted,
        Ok(Err(e)) => return tracing::debug!(error = %e, "TLS handshake failed; closing"),
        Err(_) => return tracing::debug!("TLS handshake not finished within the idle timeout; closing"),
    };
    let context = context.with_tls(accepted.peer_identity.take());
    let (protocol, prefix) = match accepted.protocol {
        Some(protocol) => (protocol, Bytes::new()),
        None => {
            let mut prefix = BytesMut::with_capacity(MAX_DETECT_LEN);
            match opening_within(&mut accepted.stream, &mut prefix, false, deadline, &context.lifecycle).await {
                Some(Opening::Plain(protocol)) => (protocol, prefix.freeze()),
                Some(Opening::Tls) | None => return,
            }
        }
    };
    serve_protocol(accepted.stream, prefix, protocol, context).await
}

/// Serves `io`, whose first bytes (already read) are `prefix`, in `protocol`.
async fn serve_protocol<IO, S>(io: IO, prefix: Bytes, protocol: Protocol, context: ConnectionContext<S>)
where
    IO: Connected,
    S: ServiceStack,
{
    let context = context.with_protocol(protocol);
    match protocol {
        Protocol::Binary => {
            let (read, write) = io.split();
            binary::server::serve(Rewind::new(prefix, read), write, context).await
        }
        Protocol::Dubbo => {
            let (read, write) = io.split();
            dubbo::server::serve(Rewind::new(prefix, read), write, context).await
        }
        Protocol::Grpc => grpc::server::serve(Rewind::new(prefix, io), context).await,
        Protocol::Rest => rest::server::serve(Rewind::new(prefix, io), context).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_protocol_is_told_apart_from_its_first_bytes() {
        assert_eq!(classify(&[0xD8, 0xB5, 1]), Ok(Some(Protocol::Binary)));
        assert_eq!(classify(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Ok(Some(Protocol::Grpc)));
        // One byte of either: wait for more.
        assert_eq!(classify(&[0xD8]), Ok(None));
        assert_eq!(classify(b"PRI * HT"), Ok(None));
        // HTTP/1.1 starts with `P` too, and is not HTTP/2: it is Triple's REST form.
        assert_eq!(classify(b"POST / HTTP/1.1\r\n"), Ok(Some(Protocol::Rest)));
        assert_eq!(classify(b"GET /"), Ok(Some(Protocol::Rest)));
        assert_eq!(classify(b"PUT"), Err(()));
        assert_eq!(classify(&[0xDA, 0xBB]), Ok(Some(Protocol::Dubbo)));
        assert_eq!(classify(&[0xDA]), Ok(None));
        assert_eq!(classify(&[0xDA, 0xBC]), Err(()));
        assert_eq!(classify(b""), Ok(None));
    }
}
