use std::time::Duration;

/// When an endpoint's circuit breaker opens, and how it closes again.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// use std::time::Duration;
/// use rpc::cluster::BreakerConfig;
/// let breaker = BreakerConfig::default()
///     .failure_rate(0.5)
///     .slow_calls(Duration::from_millis(300), 0.8)
///     .minimum_calls(20)
///     .open_for(Duration::from_secs(5));
/// # drop(breaker);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    /// Open when at least this share of the window's calls failed (0.0–1.0).
    pub failure_rate: f64,
    /// Calls slower than this count as slow. Latencies are read from the kernel's coarse
    /// clock (one tick: 1–4 ms) unless the channel balances by peak-EWMA latency, so keep
    /// this well above a few milliseconds.
    pub slow_call_duration: Duration,
    /// Open when at least this share of the window's calls were slow; above 1.0 never.
    pub slow_call_rate: f64,
    /// Rates are judged only once the window holds this many calls.
    pub minimum_calls: u32,
    /// The sliding window the rates are measured over.
    pub window: Duration,
    /// How long an open breaker refuses calls before it lets probes through.
    pub open_for: Duration,
    /// Probe calls let through when half-open; all must succeed to close.
    pub half_open_probes: u32,
    /// `false` turns the breaker off (it stays closed).
    pub enabled: bool,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_rate: 0.5,
            slow_call_duration: Duration::from_secs(1),
            slow_call_rate: 1.1,
            minimum_calls: 20,
            window: Duration::from_secs(10),
            open_for: Duration::from_secs(5),
            half_open_probes: 3,
            enabled: true,
        }
    }
}

impl BreakerConfig {
    /// A breaker that never opens.
    pub fn disabled() -> Self {
        BreakerConfig { enabled: false, ..BreakerConfig::default() }
    }
    /// Opens when this share of calls in the window fails (default 0.5).
    pub fn failure_rate(mut self, rate: f64) -> Self {
        self.failure_rate = rate;
        self
    }
    /// Calls over `duration` are slow; open when `rate` of the window's calls are.
    pub fn slow_calls(mut self, duration: Duration, rate: f64) -> Self {
        self.slow_call_duration = duration;
        self.slow_call_rate = rate;
        self
    }
    /// Calls the window must hold before rates count (default 20).
    pub fn minimum_calls(mut self, calls: u32) -> Self {
        self.minimum_calls = calls;
        self
    }
    /// The sliding window rates are measured over (default 10 s).
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }
    /// How long it stays open before probing (default 5 s).
    pub fn open_for(mut self, cool_down: Duration) -> Self {
        self.open_for = cool_down;
        self
    }
    /// Probe calls let through when half-open; all must succeed to close (default 3).
    pub fn half_open_probes(mut self, probes: u32) -> Self {
        self.half_open_probes = probes.max(1);
        self
    }
}
