//! A hyper connection (HTTP/2 for gRPC, HTTP/1.1 for REST) served until it ends or the server
//! shuts down: on shutdown it is asked to finish gracefully (GOAWAY, or closing after the
//! request in progress), and cut when the grace period ends.

use std::future::Future;
use std::pin::Pin;

use crate::provider::Lifecycle;

/// Drives `connection` to its end; `graceful` is its `graceful_shutdown`.
pub(crate) async fn serve_until_shutdown<C>(connection: C, lifecycle: &Lifecycle, graceful: fn(Pin<&mut C>))
where
    C: Future<Output = Result<(), hyper::Error>>,
{
    tokio::pin!(connection);
    let ended = tokio::select! {
        ended = connection.as_mut() => ended,
        _ = lifecycle.shutdown.cancelled() => {
            graceful(connection.as_mut());
            tokio::select! {
                ended = connection.as_mut() => ended,
                _ = lifecycle.force.cancelled() => return,
            }
        }
    };
    if let Err(e) = ended {
        tracing::debug!(error = %e, "HTTP connection ended with an error");
    }
}
