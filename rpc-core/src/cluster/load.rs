use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::clock::{self, Stamp};

/// Latency assumed for an endpoint before its first reply.
const DEFAULT_RTT: Duration = Duration::from_millis(1);
/// How fast the latency estimate forgets: the weight of an old sample halves about every
/// `DECAY * ln 2`.
const DECAY: Duration = Duration::from_secs(2);
/// Bits of [`Load::counts`] that count calls in flight: 16M at once on one endpoint is far
/// beyond any pool; the other 40 bits count a trillion calls.
const IN_FLIGHT_BITS: u32 = 24;
const ONE_CALL: u64 = 1 << IN_FLIGHT_BITS;

/// What an endpoint is doing now: calls in flight, and a peak-EWMA latency estimate (rises
/// at once with a slow reply, decays over time) — the inputs of least-active and
/// power-of-two-choices. Lock-free: a few atomics updated per call.
#[derive(Debug)]
pub(crate) struct Load {
    /// Calls in flight (the low [`IN_FLIGHT_BITS`]) and calls started so far (the rest), in
    /// one word so that starting a call is one atomic add.
    counts: AtomicU64,
    /// Estimate in nanoseconds, as `f64` bits.
    rtt_ns: AtomicU64,
    /// When the estimate was last updated (a [`Stamp`]'s nanoseconds; 0: never).
    updated_ns: AtomicU64,
    /// Whether a balancer reads the latency estimate (peak-EWMA); if not, it is not kept.
    track_latency: bool,
}

impl Default for Load {
    fn default() -> Self {
        Load::new(true)
    }
}

impl Load {
    pub(crate) fn new(track_latency: bool) -> Self {
        Load {
            counts: AtomicU64::new(0),
            rtt_ns: AtomicU64::new((DEFAULT_RTT.as_nanos() as f64).to_bits()),
            updated_ns: AtomicU64::new(0),
            track_latency,
        }
    }

    pub(crate) fn in_flight(&self) -> u32 {
        (self.counts.load(Ordering::Relaxed) & (ONE_CALL - 1)) as u32
    }

    /// Calls started on this endpoint so far.
    pub(crate) fn calls(&self) -> u64 {
        self.counts.load(Ordering::Relaxed) >> IN_FLIGHT_BITS
    }

    /// The latency estimate in nanoseconds, decayed to now.
    pub(crate) fn rtt_ns(&self) -> f64 {
        f64::from_bits(self.rtt_ns.load(Ordering::Relaxed))
    }

    /// The time for this endpoint's latency stamps: the precise clock when the estimate is
    /// kept (peak-EWMA compares sub-millisecond latencies), else the coarse one, which serves
    /// the breaker's slow-call threshold and window at a seventh of the cost.
    pub(crate) fn now(&self) -> Stamp {
        if self.track_latency {
            clock::precise()
        } else {
            clock::coarse()
        }
    }

    /// A call starts. Each `enter` needs one [`leave`](Load::leave); an `EndpointCall` pairs
    /// them.
    pub(crate) fn enter(&self) {
        self.counts.fetch_add(ONE_CALL + 1, Ordering::Relaxed);
    }

    /// A call ends.
    pub(crate) fn leave(&self) {
        self.counts.fetch_sub(1, Ordering::Relaxed);
    }

    /// A call that started at `started` got its reply now: feeds the latency estimate and
    /// returns the latency in nanoseconds and the time.
    pub(crate) fn replied(&self, started: Stamp) -> (u64, Stamp) {
        let now = self.now();
        let rtt_ns = now.nanos_since(started);
        if self.track_latency {
            self.observe(rtt_ns, now);
        }
        (rtt_ns, now)
    }

    fn observe(&self, rtt_ns: u64, now: Stamp) {
        let now_ns = now.nanos();
        let elapsed = now_ns.saturating_sub(self.updated_ns.swap(now_ns, Ordering::Relaxed));
        let sample = rtt_ns as f64;
        let keep = (-(elapsed as f64) / DECAY.as_nanos() as f64).exp();
        // A racing update may be lost; the estimate is a heuristic and the next call corrects it.
        let _ = self.rtt_ns.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
            let old = f64::from_bits(bits);
            let new = if sample > old { sample } else { old * keep + sample * (1.0 - keep) };
            Some(new.to_bits())
        });
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Load;
    use crate::cluster::clock;

    #[test]
    fn the_estimate_jumps_to_a_slow_sample_and_decays_back() {
        let load = Load::default();
        let t0 = clock::precise();
        load.observe(100_000_000, t0);
        assert!((load.rtt_ns() - 100e6).abs() < 1.0);
        load.observe(1_000_000, t0.after(Duration::from_secs(10)));
        assert!(load.rtt_ns() < 5e6, "decayed to {}", load.rtt_ns());
    }

    #[test]
    fn in_flight_counts_entries_and_leaves() {
        let load = Load::default();
        load.enter();
        load.enter();
        assert_eq!(load.in_flight(), 2);
        load.leave();
        load.leave();
        assert_eq!((load.in_flight(), load.calls()), (0, 2));
    }
}
