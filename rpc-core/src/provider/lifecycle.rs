use tokio_util::sync::CancellationToken;

/// The shutdown signals every connection task of a server watches.
#[derive(Clone, Default)]
pub(crate) struct Lifecycle {
    /// Graceful: announce go-away, answer late requests with `Unavailable`, finish in-flight calls.
    pub(crate) shutdown: CancellationToken,
    /// The grace period ran out: drop the connection now.
    pub(crate) force: CancellationToken,
}
