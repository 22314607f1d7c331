use tokio_util::sync::CancellationToken;

use super::Pipelining;

/// What every connection task of a server shares: the shutdown signals it watches, and how
/// many connections pipeline.
#[derive(Clone, Default)]
pub(crate) struct Lifecycle {
    /// Graceful: announce go-away, answer late requests with `Unavailable`, finish in-flight calls.
    pub(crate) shutdown: CancellationToken,
    /// The grace period ran out: drop the connection now.
    pub(crate) force: CancellationToken,
    /// Connections whose reply batches are long (they decide whether to write early).
    pub(crate) pipelining: Pipelining,
}
