//! Load balancers: which endpoint a call goes to.
//!
//! Each is a `Picker` built for one endpoint set (the directory rebuilds it on every change
//! and, during warm-up, as weights ramp), holding whatever precomputed structure makes a pick
//! O(1) or O(log n): a counter, a smooth weighted schedule, cumulative weights, a hash ring.
//! Picks take no lock. A pick skips endpoints that are unavailable (breaker open, not
//! connected) or already tried by this call, so a retry lands elsewhere.

mod consistent_hash;
mod least_active;
mod peak_ewma;
mod round_robin;
mod smooth_weighted;
mod weighted_random;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) use consistent_hash::ConsistentHash;
pub(crate) use least_active::LeastActive;
pub(crate) use peak_ewma::PeakEwma;
pub(crate) use round_robin::RoundRobin;
pub(crate) use smooth_weighted::SmoothWeighted;
pub(crate) use weighted_random::WeightedRandom;

use super::Endpoint;
use crate::Request;

/// Which load balancer a channel (or one method) uses.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// use rpc::cluster::{Balance, HashKey};
/// let by_user = Balance::ConsistentHash { key: HashKey::Arg(0), vnodes: 160 };
/// # drop(by_user);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Balance {
    /// Each endpoint in turn, ignoring weights.
    RoundRobin,
    /// nginx's smooth weighted round-robin: shares follow the weights, interleaved.
    WeightedRoundRobin,
    /// Random, with probability proportional to weight (Dubbo's default).
    #[default]
    WeightedRandom,
    /// The endpoint with the fewest calls in flight; ties go to the higher weight.
    LeastActive,
    /// Power of two choices on peak-EWMA latency × (in-flight + 1), divided by weight.
    PeakEwma,
    /// A hash ring with `vnodes` virtual nodes per endpoint (scaled by weight/100): the same
    /// key goes to the same endpoint, and only ~1/N of keys move when one joins or leaves.
    ConsistentHash {
        /// What is hashed.
        key: HashKey,
        /// Ring points per endpoint of weight 100 (160 is Dubbo's).
        vnodes: u32,
    },
}

/// What a consistent-hash balancer hashes. A call that lacks it (an attachment not set, an
/// argument the method does not have) is placed at random, and the first such call logs a
/// warning; a channel that knows its service refuses an argument index the method lacks.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// use rpc::cluster::{Balance, HashKey, MethodConfig};
/// // `get(key: String)`: the same key, the same provider.
/// let by_key = MethodConfig::new().balance(Balance::ConsistentHash { key: HashKey::Arg(0), vnodes: 160 });
/// // Every method of a tenant's calls to one provider, by the caller's `tenant` attachment.
/// let by_tenant = Balance::ConsistentHash { key: HashKey::Attachment("tenant".into()), vnodes: 160 };
/// # drop((by_key, by_tenant));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HashKey {
    /// Argument `n` of the method (counting from 0), as the generated client serialized it.
    Arg(usize),
    /// The value of this attachment.
    Attachment(String),
}

/// The endpoints of one snapshot, and which of them this pick may use.
pub(crate) struct Candidates<'a> {
    pub(crate) endpoints: &'a [Arc<Endpoint>],
    /// Already tried by this call.
    pub(crate) excluded: &'a [usize],
}

impl Candidates<'_> {
    pub(crate) fn len(&self) -> usize {
        self.endpoints.len()
    }

    pub(crate) fn eligible(&self, index: usize) -> bool {
        !self.excluded.contains(&index) && self.endpoints.get(index).is_some_and(|e| e.is_available())
    }

    /// The first eligible endpoint at or after `start`, going round.
    pub(crate) fn scan_from(&self, start: usize) -> Option<usize> {
        let n = self.len();
        (0..n).map(|k| (start + k) % n).find(|&i| self.eligible(i))
    }
}

/// A load balancer built for one endpoint set.
pub(crate) trait Picker: Send + Sync {
    /// The endpoint for `request`, or `None` if no candidate is eligible.
    fn pick(&self, candidates: &Candidates<'_>, request: &Request) -> Option<usize>;
}

/// Builds `balance`'s picker for `endpoints`, with weights ramped by `warmup` at `now`.
pub(crate) fn build(balance: &Balance, endpoints: &[Arc<Endpoint>], warmup: Duration, now: Instant) -> Box<dyn Picker> {
    let weights = || endpoints.iter().map(|e| e.effective_weight(warmup, now)).collect::<Vec<u32>>();
    match balance {
        Balance::RoundRobin => Box::new(RoundRobin::default()),
        Balance::WeightedRoundRobin => Box::new(SmoothWeighted::new(&weights())),
        Balance::WeightedRandom => Box::new(WeightedRandom::new(&weights())),
        Balance::LeastActive => Box::new(LeastActive::new(weights())),
        Balance::PeakEwma => Box::new(PeakEwma::new(weights())),
        Balance::ConsistentHash { key, vnodes } => Box::new(ConsistentHash::new(endpoints, key.clone(), *vnodes)),
    }
}

/// A balancer over a fixed set of endpoints that holds no connections: what a channel's
/// directory builds, usable on its own — to benchmark picks, or to route work by the same
/// rules outside a channel.
///
/// ```
/// # mod rpc { pub use rpc_core::*; pub mod registry { pub use rpc_registry::*; } }
/// use rpc::cluster::balance::Balancer;
/// use rpc::cluster::{Balance, HashKey};
/// use rpc::registry::Instance;
/// let instances: Vec<Instance> = (0..3).map(|i| Instance::new("svc", format!("10.0.0.{i}:20880"))).collect();
/// let ring = Balancer::new(&Balance::ConsistentHash { key: HashKey::Attachment("user".into()), vnodes: 160 }, &instances);
/// let mut request = rpc::Request::new("svc", "get", bytes::Bytes::new());
/// request.attachments_mut().insert("user", "alice");
/// assert_eq!(ring.pick(&request), ring.pick(&request));
/// ```
pub struct Balancer {
    endpoints: Vec<Arc<Endpoint>>,
    picker: Box<dyn Picker>,
}

impl Balancer {
    /// The balancer `balance` builds over `instances` (detached endpoints: nothing connects).
    pub fn new(balance: &Balance, instances: &[rpc_registry::Instance]) -> Balancer {
        let endpoints: Vec<Arc<Endpoint>> = instances.iter().map(|i| Arc::new(Endpoint::detached(i))).collect();
        let picker = build(balance, &endpoints, Duration::ZERO, Instant::now());
        Balancer { endpoints, picker }
    }

    /// The address `request` goes to.
    pub fn pick(&self, request: &Request) -> Option<&str> {
        let candidates = Candidates { endpoints: &self.endpoints, excluded: &[] };
        self.picker.pick(&candidates, request).map(|i| self.endpoints[i].address())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use rpc_registry::Instance;

    use super::{Balance, Balancer, HashKey};
    use crate::Request;

    fn instances(weights: &[u32]) -> Vec<Instance> {
        weights.iter().enumerate().map(|(i, &w)| Instance::new("svc", format!("10.0.0.{i}:1")).weight(w)).collect()
    }

    fn shares(balancer: &Balancer, calls: usize, request: impl Fn(usize) -> Request) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for n in 0..calls {
            *counts.entry(balancer.pick(&request(n)).expect("a pick").to_string()).or_default() += 1;
        }
        counts
    }

    fn plain(_: usize) -> Request {
        Request::new("svc", "m", bytes::Bytes::new())
    }

    #[test]
    fn round_robin_and_smooth_weighted_are_exact_over_a_cycle() {
        let rr = Balancer::new(&Balance::RoundRobin, &instances(&[100, 300, 600]));
        assert!(shares(&rr, 3000, plain).values().all(|&c| c == 1000));
        let wrr = Balancer::new(&Balance::WeightedRoundRobin, &instances(&[100, 300, 600]));
        let counts = shares(&wrr, 1000, plain);
        assert_eq!((counts["10.0.0.0:1"], counts["10.0.0.1:1"], counts["10.0.0.2:1"]), (100, 300, 600));
    }

    #[test]
    fn weighted_random_follows_weights() {
        // Seeded, so a failure replays; the bound is 6 standard deviations of the binomial
        // besides (a chance failure below 1e-8 for any seed).
        fastrand::seed(0x5eed_ba1a);
        let random = Balancer::new(&Balance::WeightedRandom, &instances(&[100, 300, 600]));
        let calls = 60_000;
        let counts = shares(&random, calls, plain);
        for (address, p) in [("10.0.0.0:1", 0.1), ("10.0.0.1:1", 0.3), ("10.0.0.2:1", 0.6)] {
            let (mean, sigma) = (calls as f64 * p, (calls as f64 * p * (1.0 - p)).sqrt());
            let got = counts[address] as f64;
            assert!((got - mean).abs() <= 6.0 * sigma, "{address}: {got} picks, expected {mean} ± {sigma:.0}");
        }
    }

    #[test]
    fn consistent_hash_moves_only_the_removed_endpoints_keys() {
        let by_user = Balance::ConsistentHash { key: HashKey::Attachment("user".into()), vnodes: 160 };
        let keyed = |n: usize| {
            let mut request = Request::new("svc", "m", bytes::Bytes::new());
            request.attachments_mut().insert("user", format!("user-{n}"));
            request
        };
        let five = instances(&[100; 5]);
        let before = Balancer::new(&by_user, &five);
        let after = Balancer::new(&by_user, &five[..4]);
        let mut moved = 0;
        for n in 0..10_000 {
            let (a, b) = (before.pick(&keyed(n)).unwrap(), after.pick(&keyed(n)).unwrap());
            assert_eq!(a, before.pick(&keyed(n)).unwrap(), "the same key, the same endpoint");
            if a != b {
                assert_eq!(a, "10.0.0.4:1", "only the removed endpoint's keys move");
                moved += 1;
            }
        }
        assert!(moved <= 2_500, "{moved} of 10000 keys moved");
    }
}
