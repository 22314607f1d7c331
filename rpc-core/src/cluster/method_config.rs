use std::time::Duration;

use super::{Balance, Cluster};

/// Settings for one method that differ from the channel's: timeout, cluster mode (and so
/// retries), load balancer, idempotency.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// use std::time::Duration;
/// use rpc::cluster::{Balance, Cluster, HashKey, MethodConfig};
/// let lookup = MethodConfig::new()
///     .timeout(Duration::from_millis(200))
///     .cluster(Cluster::Failover { retries: 3 })
///     .balance(Balance::ConsistentHash { key: HashKey::Arg(0), vnodes: 160 })
///     .idempotent(true);
/// # drop(lookup);
/// ```
#[derive(Debug, Clone, Default)]
pub struct MethodConfig {
    pub(crate) timeout: Option<Duration>,
    pub(crate) cluster: Option<Cluster>,
    pub(crate) balance: Option<Balance>,
    pub(crate) idempotent: Option<bool>,
}

impl MethodConfig {
    /// No overrides: the method uses the channel's settings.
    pub fn new() -> MethodConfig {
        MethodConfig::default()
    }
    /// Deadline of calls to this method that set none themselves.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
    /// The cluster mode for this method.
    pub fn cluster(mut self, cluster: Cluster) -> Self {
        self.cluster = Some(cluster);
        self
    }
    /// Shorthand for failover with `retries` retries.
    pub fn retries(self, retries: usize) -> Self {
        self.cluster(Cluster::Failover { retries })
    }
    /// The load balancer for this method.
    pub fn balance(mut self, balance: Balance) -> Self {
        self.balance = Some(balance);
        self
    }
    /// Overrides the descriptor's `#[rpc(idempotent)]`.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }
}
