use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rpc_registry::Instance;

use super::breaker::{BreakerConfig, BreakerState, CircuitBreaker};
use super::hash_key;
use super::load::Load;
use super::pool::{Pool, PoolConfig};

/// One provider address as the cluster client sees it: its weight, circuit breaker, load and
/// connection pool. Kept across endpoint-set changes as long as the address stays, so its
/// breaker state and connections survive a registry update.
pub struct Endpoint {
    address: String,
    weight: AtomicU32,
    /// Since when it counts as up, for the warm-up ramp.
    up_since: Instant,
    pub(crate) breaker: CircuitBreaker,
    pub(crate) load: Load,
    pub(crate) pool: Pool,
    /// This endpoint's points on a consistent-hash ring, per virtual-node count.
    ring_points: Mutex<Option<(u32, Arc<[u64]>)>>,
}

/// A snapshot of one endpoint, for dashboards, examples and tests.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointInfo {
    /// `host:port`.
    pub address: String,
    /// The weight in use now (ramping up during a warm-up).
    pub weight: u32,
    /// Where its circuit breaker stands.
    pub breaker: BreakerState,
    /// Calls in flight on it now.
    pub in_flight: u32,
    /// Calls started on it so far.
    pub calls: u64,
    /// Whether a connection to it is up.
    pub connected: bool,
    /// The protocol it is called over (of those it registered, the one preferred).
    pub protocol: crate::Protocol,
}

impl Endpoint {
    /// `track_latency`: keep the peak-EWMA estimate (only the peak-EWMA balancer reads it).
    pub(crate) fn new(instance: &Instance, pool: &PoolConfig, breaker: BreakerConfig, track_latency: bool) -> Endpoint {
        Endpoint {
            address: instance.address.clone(),
            weight: AtomicU32::new(instance.weight),
            up_since: up_since(instance),
            breaker: CircuitBreaker::new(breaker),
            load: Load::new(track_latency),
            pool: Pool::new(instance.address.clone(), pool, instance.metadata.get("token").map(|t| t.as_str().into())),
            ring_points: Mutex::new(None),
        }
    }

    /// An endpoint without connections, always available: for balancer benchmarks and
    /// picks made outside a channel.
    pub(crate) fn detached(instance: &Instance) -> Endpoint {
        Endpoint {
            address: instance.address.clone(),
            weight: AtomicU32::new(instance.weight),
            up_since: up_since(instance),
            breaker: CircuitBreaker::new(BreakerConfig::disabled()),
            load: Load::default(),
            pool: Pool::detached(instance.address.clone()),
            ring_points: Mutex::new(None),
        }
    }

    /// `host:port`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The configured weight (100 = normal).
    pub fn weight(&self) -> u32 {
        self.weight.load(Ordering::Relaxed)
    }

    pub(crate) fn set_weight(&self, weight: u32) {
        self.weight.store(weight, Ordering::Relaxed);
    }

    /// The weight with the warm-up ramp applied: a new provider gets a share growing linearly
    /// to its full weight over `warmup` (JIT, caches and pools still cold), at least 1.
    pub fn effective_weight(&self, warmup: Duration, now: Instant) -> u32 {
        let weight = self.weight();
        let uptime = now.saturating_duration_since(self.up_since);
        if warmup.is_zero() || uptime >= warmup || weight == 0 {
            return weight;
        }
        ((f64::from(weight) * uptime.as_secs_f64() / warmup.as_secs_f64()) as u32).max(1)
    }

    /// Still ramping up at `now`.
    pub(crate) fn warming(&self, warmup: Duration, now: Instant) -> bool {
        now.saturating_duration_since(self.up_since) < warmup
    }

    /// Whether a balancer may pick it: its breaker lets calls through and it is connected (or
    /// still connecting for the first time).
    pub fn is_available(&self) -> bool {
        self.breaker.is_available() && self.pool.is_usable()
    }

    /// Its ring points for `vnodes` virtual nodes per 100 of weight: hashes of
    /// `address#i`, computed once per endpoint and reused when the ring is rebuilt.
    pub(crate) fn ring_points(&self, vnodes: u32) -> Arc<[u64]> {
        let count = ((u64::from(vnodes) * u64::from(self.weight())) / 100).clamp(1, 100_000) as u32;
        let mut cached = self.ring_points.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((n, points)) = cached.as_ref() {
            if *n == count {
                return points.clone();
            }
        }
        let points: Arc<[u64]> = (0..count).map(|i| hash_key(format!("{}#{i}", self.address).as_bytes())).collect();
        *cached = Some((count, points.clone()));
        points
    }

    /// A snapshot of its state, for display.
    pub fn info(&self) -> EndpointInfo {
        EndpointInfo {
            address: self.address.clone(),
            weight: self.weight(),
            breaker: self.breaker.state(),
            in_flight: self.load.in_flight(),
            calls: self.load.calls(),
            connected: self.pool.is_connected(),
            protocol: self.pool.protocol(),
        }
    }
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint").field("address", &self.address).field("weight", &self.weight()).finish()
    }
}

/// When the provider came up: its registration's `timestamp` (milliseconds since the Unix
/// epoch, as Dubbo records it) if it has one, else now.
fn up_since(instance: &Instance) -> Instant {
    let now = Instant::now();
    let registered = instance.metadata.get("timestamp").and_then(|t| t.parse::<u64>().ok());
    let Some(ms) = registered else { return now };
    let age =
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().saturating_sub(Duration::from_millis(ms));
    now.checked_sub(age).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    use rpc_registry::Instance;

    use super::Endpoint;

    #[test]
    fn weight_ramps_up_over_the_warmup_from_the_registration_time() {
        let registered = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() - Duration::from_secs(5);
        let mut instance = Instance::new("svc", "10.0.0.1:1").weight(200);
        instance.metadata.insert("timestamp".into(), registered.as_millis().to_string());
        let endpoint = Endpoint::detached(&instance);
        let now = Instant::now();
        let ramped = endpoint.effective_weight(Duration::from_secs(10), now);
        // 100 at 5 s; each second this thread stalls between the two clock reads above adds 20.
        assert!((95..=125).contains(&ramped), "half-way through a 10 s warm-up: {ramped}");
        assert!(endpoint.warming(Duration::from_secs(10), now));
        assert_eq!(endpoint.effective_weight(Duration::from_secs(4), now), 200, "warm-up over");
        assert_eq!(endpoint.effective_weight(Duration::ZERO, now), 200, "no warm-up");
        let fresh = Endpoint::detached(&Instance::new("svc", "10.0.0.2:1"));
        assert_eq!(fresh.effective_weight(Duration::from_secs(60), Instant::now()), 1, "at least 1");
    }
}
