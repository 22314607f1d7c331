use std::sync::Arc;

use tokio::net::TcpStream;
use tower::{BoxError, Service};

use super::connection::{serve_connection, Lifecycle};
use super::{Router, ServerConfig};
use crate::{Request, Response};

/// The first byte of HTTP/2's connection preface (`PRI * HTTP/2.0…`). The binary protocol's
/// first byte is its magic's (0xD8), so one byte tells the two apart.
const HTTP2_PREFACE_START: u8 = b'P';

/// Serves an accepted socket with the protocol its first byte announces. The byte is peeked,
/// not read, so each protocol's reader sees the stream from its start. A client that sends
/// nothing within the idle timeout is disconnected.
pub(crate) async fn serve_accepted<S>(
    stream: TcpStream,
    service: S,
    router: Router,
    config: Arc<ServerConfig>,
    lifecycle: Lifecycle,
) where
    S: Service<Request, Response = Response> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send,
{
    let mut first = [0u8; 1];
    let peeked = tokio::select! {
        peeked = tokio::time::timeout(config.idle_timeout, stream.peek(&mut first)) => peeked,
        _ = lifecycle.shutdown.cancelled() => return,
    };
    match peeked {
        Ok(Ok(1)) if first[0] == HTTP2_PREFACE_START => {
            crate::grpc::serve_http2(stream, service, router, config, lifecycle).await;
        }
        Ok(Ok(1)) => {
            let (read, write) = stream.into_split();
            serve_connection(read, write, service, router, config, lifecycle).await;
        }
        Ok(Ok(_)) => tracing::debug!("closed before sending anything"),
        Ok(Err(e)) => tracing::debug!(error = %e, "connection lost before its first byte"),
        Err(_) => tracing::debug!(idle = ?config.idle_timeout, "no bytes within the idle timeout; closing"),
    }
}
