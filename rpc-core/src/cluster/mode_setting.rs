use std::time::Duration;

/// How a cluster channel handles failure: for the whole channel
/// ([`ChannelBuilder::cluster`](crate::ChannelBuilder::cluster)) or one method
/// ([`MethodConfig::cluster`](crate::cluster::MethodConfig::cluster)). The default is
/// failover with 2 retries, as Dubbo's.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// use std::time::Duration;
/// use rpc::cluster::{Cluster, MethodConfig};
/// assert_eq!(Cluster::default(), Cluster::Failover { retries: 2 });
/// // A notification nobody waits for: retried in the background, the caller goes on.
/// let notify = MethodConfig::new().cluster(Cluster::Failback { retries: 5, queue: 1024, interval: Duration::from_secs(1) });
/// // Read from two replicas at once, take the first answer.
/// let read = MethodConfig::new().cluster(Cluster::Forking { parallel: 2 });
/// # drop((notify, read));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cluster {
    /// Retry on another endpoint, up to `retries` times: only idempotent methods, or errors
    /// known to be raised before the request left the client. Retries share the call's
    /// deadline and draw on the retry budget.
    Failover {
        /// Attempts after the first.
        retries: usize,
    },
    /// One attempt; its error is the caller's.
    Failfast,
    /// One attempt; an error is logged and the caller gets the result type's default value.
    Failsafe,
    /// One attempt; a failed oneway or idempotent call is queued (at most `queue` of them)
    /// and retried in the background up to `retries` times, `interval` apart, while the
    /// caller gets the default value at once. Other calls fail as in failfast.
    Failback {
        /// Background attempts per failed call.
        retries: usize,
        /// Failed calls held at most; a call failing while it is full gets its error.
        queue: usize,
        /// The wait between background attempts.
        interval: Duration,
    },
    /// `parallel` endpoints at once; the first success wins.
    Forking {
        /// Endpoints called at once.
        parallel: usize,
    },
    /// Every available endpoint; an error if any fails (e.g. cache invalidation).
    Broadcast,
}

impl Default for Cluster {
    fn default() -> Self {
        Cluster::Failover { retries: 2 }
    }
}
