use std::collections::HashMap;
use std::time::Duration;

use super::{Balance, Cluster, MethodConfig};

/// What a call to one method uses: its cluster mode, balancer (an index into the directory's
/// balancers), default timeout and idempotency override.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MethodSettings {
    pub(crate) cluster: Cluster,
    pub(crate) balancer: usize,
    pub(crate) timeout: Option<Duration>,
    pub(crate) idempotent: Option<bool>,
}

/// A cluster channel's settings: the channel-wide ones and per-method overrides.
#[derive(Debug)]
pub(crate) struct ClusterSettings {
    pub(crate) default: MethodSettings,
    pub(crate) methods: HashMap<String, MethodSettings>,
    pub(crate) connect_timeout: Duration,
}

impl ClusterSettings {
    /// The settings of a channel whose default mode is `cluster` and balancer `balance`, with
    /// per-method `methods`; also the distinct balancers they name, the channel's first (a
    /// method's `balancer` indexes this list).
    pub(crate) fn new(
        cluster: Cluster,
        balance: Balance,
        methods: HashMap<String, MethodConfig>,
        connect_timeout: Duration,
    ) -> (ClusterSettings, Vec<Balance>) {
        let mut balances = vec![balance];
        let default = MethodSettings { cluster, balancer: 0, timeout: None, idempotent: None };
        let mut method_settings = HashMap::with_capacity(methods.len());
        for (name, config) in methods {
            let balancer = match config.balance {
                None => 0,
                Some(balance) => match balances.iter().position(|b| *b == balance) {
                    Some(index) => index,
                    None => {
                        balances.push(balance);
                        balances.len() - 1
                    }
                },
            };
            let settings = MethodSettings {
                cluster: config.cluster.unwrap_or(cluster),
                balancer,
                timeout: config.timeout,
                idempotent: config.idempotent,
            };
            method_settings.insert(name, settings);
        }
        (ClusterSettings { default, methods: method_settings, connect_timeout }, balances)
    }

    pub(crate) fn method(&self, method: &str) -> MethodSettings {
        if self.methods.is_empty() {
            return self.default;
        }
        self.methods.get(method).copied().unwrap_or(self.default)
    }
}
