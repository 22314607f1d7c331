//! A circuit breaker per endpoint: closed → open on the failure or slow-call rate over a
//! sliding window; open → half-open after a cool-down; half-open → closed when its probes
//! succeed, or open again when one fails. Apache Dubbo has none built in.

mod config;

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};

use crate::cluster::clock::{self, Stamp};
use crate::cluster::window::Window;
pub use config::BreakerConfig;

use crate::Code;

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls flow; outcomes are counted.
    Closed,
    /// Calls are refused until the cool-down ends.
    Open,
    /// A few probe calls are let through to test the endpoint.
    HalfOpen,
}

const CLOSED: u8 = 0;
const OPEN: u8 = 1;
const HALF_OPEN: u8 = 2;

/// One endpoint's breaker. Lock-free: the state, the cool-down start and the window are
/// atomics, so checking it on every pick costs a load or two.
#[derive(Debug)]
pub(crate) struct CircuitBreaker {
    config: BreakerConfig,
    state: AtomicU8,
    /// When it last opened (a [`Stamp`]'s nanoseconds).
    opened_ns: AtomicU64,
    probes_started: AtomicU32,
    probes_passed: AtomicU32,
    window: Window,
    /// The config's durations in nanoseconds, compared with on every call.
    slow_ns: u64,
    open_for_ns: u64,
}

/// Leave to make one call, returned by [`CircuitBreaker::try_acquire`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Permit {
    probe: bool,
}

impl CircuitBreaker {
    pub(crate) fn new(config: BreakerConfig) -> CircuitBreaker {
        CircuitBreaker {
            config,
            state: AtomicU8::new(CLOSED),
            opened_ns: AtomicU64::new(0),
            probes_started: AtomicU32::new(0),
            probes_passed: AtomicU32::new(0),
            window: Window::new(config.window),
            slow_ns: clock::nanos(config.slow_call_duration),
            open_for_ns: clock::nanos(config.open_for),
        }
    }

    pub(crate) fn state(&self) -> BreakerState {
        match self.state.load(Ordering::Acquire) {
            CLOSED => BreakerState::Closed,
            OPEN => BreakerState::Open,
            _ => BreakerState::HalfOpen,
        }
    }

    /// Whether a call could be let through now (what a balancer asks; changes nothing).
    pub(crate) fn is_available(&self) -> bool {
        match self.state.load(Ordering::Acquire) {
            CLOSED => true,
            OPEN => self.cool_down_over(),
            _ => self.probes_started.load(Ordering::Acquire) < self.config.half_open_probes,
        }
    }

    /// Leave to call, or `None` while open (or half-open with its probes all out).
    pub(crate) fn try_acquire(&self) -> Option<Permit> {
        if !self.config.enabled {
            return Some(Permit { probe: false });
        }
        loop {
            match self.state.load(Ordering::Acquire) {
                CLOSED => return Some(Permit { probe: false }),
                OPEN => {
                    if !self.cool_down_over() {
                        return None;
                    }
                    self.probes_started.store(0, Ordering::Release);
                    self.probes_passed.store(0, Ordering::Release);
                    // Whoever wins the switch, loop to take a probe in the half-open state.
                    let _ = self.state.compare_exchange(OPEN, HALF_OPEN, Ordering::AcqRel, Ordering::Acquire);
                }
                _ => {
                    let started = self.probes_started.fetch_add(1, Ordering::AcqRel);
                    return (started < self.config.half_open_probes).then_some(Permit { probe: true });
                }
            }
        }
    }

    /// Records how a permitted call ended: at `now`, after `latency_ns`.
    pub(crate) fn record(&self, permit: Permit, code: Option<Code>, latency_ns: u64, now: Stamp) {
        if !self.config.enabled {
            return;
        }
        let failed = code.is_some_and(counts_as_failure);
        let slow = latency_ns >= self.slow_ns;
        if permit.probe {
            if self.state.load(Ordering::Acquire) != HALF_OPEN {
                return;
            }
            if failed || slow {
                self.open(HALF_OPEN);
            } else if self.probes_passed.fetch_add(1, Ordering::AcqRel) + 1 >= self.config.half_open_probes
                && self.state.compare_exchange(HALF_OPEN, CLOSED, Ordering::AcqRel, Ordering::Acquire).is_ok()
            {
                self.window.clear();
                tracing::info!("circuit breaker closed: probes succeeded");
            }
            return;
        }
        let interval = self.window.interval(now);
        self.window.record(interval, failed, slow);
        // Rates rise only with a failure or a slow call, so only those re-evaluate them: a
        // success costs a few atomic adds, not a pass over the window.
        if !(failed || slow) || self.state.load(Ordering::Acquire) != CLOSED {
            return;
        }
        let totals = self.window.totals(interval);
        if totals.calls < self.config.minimum_calls.max(1) {
            return;
        }
        let calls = f64::from(totals.calls);
        let failure_rate = f64::from(totals.failures) / calls;
        let slow_rate = f64::from(totals.slow) / calls;
        let tripped = failure_rate >= self.config.failure_rate || slow_rate >= self.config.slow_call_rate;
        if tripped && self.open(CLOSED) {
            tracing::warn!(calls = totals.calls, failure_rate, slow_rate, "circuit breaker opened");
        }
    }

    /// Returns an unused probe (its call was cancelled before an outcome).
    pub(crate) fn cancel(&self, permit: Permit) {
        if permit.probe && self.state.load(Ordering::Acquire) == HALF_OPEN {
            let _ = self.probes_started.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
        }
    }

    /// Opens from `from`; false if another call already moved the state.
    fn open(&self, from: u8) -> bool {
        let now = clock::precise().nanos();
        if self.state.compare_exchange(from, OPEN, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return false;
        }
        self.opened_ns.store(now, Ordering::Release);
        self.window.clear();
        true
    }

    /// Ends the cool-down now, as if `open_for` had passed (tests drive time this way
    /// instead of sleeping, so a stalled test thread cannot turn a refusal into a probe).
    #[cfg(test)]
    fn end_cool_down(&self) {
        // The clock counts from boot, which is longer ago than a test's `open_for`.
        let opened = clock::precise().nanos().saturating_sub(self.open_for_ns);
        self.opened_ns.store(opened, Ordering::Release);
    }

    fn cool_down_over(&self) -> bool {
        let opened = self.opened_ns.load(Ordering::Acquire);
        clock::precise().nanos().saturating_sub(opened) >= self.open_for_ns
    }
}

/// Errors that say the endpoint is unwell, as opposed to the caller's or the application's
/// mistakes (not found, invalid argument, permission denied …), which must not open it.
fn counts_as_failure(code: Code) -> bool {
    matches!(
        code,
        Code::Unavailable
            | Code::DeadlineExceeded
            | Code::Internal
            | Code::Unknown
            | Code::DataLoss
            | Code::ResourceExhausted
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{BreakerConfig, BreakerState, CircuitBreaker};
    use crate::cluster::clock;
    use crate::Code;

    const MS: u64 = 1_000_000;

    fn breaker() -> CircuitBreaker {
        CircuitBreaker::new(
            BreakerConfig::default()
                .minimum_calls(10)
                .failure_rate(0.5)
                // Not over within a test by itself: the tests end it with `end_cool_down`.
                .open_for(Duration::from_secs(10))
                .half_open_probes(2),
        )
    }

    fn call(breaker: &CircuitBreaker, code: Option<Code>) -> bool {
        match breaker.try_acquire() {
            Some(permit) => {
                breaker.record(permit, code, MS, clock::coarse());
                true
            }
            None => false,
        }
    }

    #[test]
    fn opens_on_the_failure_rate_and_closes_after_successful_probes() {
        let breaker = breaker();
        for _ in 0..5 {
            assert!(call(&breaker, None));
        }
        for _ in 0..4 {
            assert!(call(&breaker, Some(Code::Unavailable)));
        }
        assert_eq!(breaker.state(), BreakerState::Closed, "9 calls are under the minimum");
        assert!(call(&breaker, Some(Code::Internal)));
        assert_eq!(breaker.state(), BreakerState::Open);
        assert!(!breaker.is_available());
        assert!(!call(&breaker, None), "open refuses");

        breaker.end_cool_down();
        assert!(breaker.is_available());
        let first = breaker.try_acquire().expect("probe 1");
        let second = breaker.try_acquire().expect("probe 2");
        assert!(breaker.try_acquire().is_none(), "only two probes");
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        breaker.record(first, None, MS, clock::coarse());
        breaker.record(second, None, MS, clock::coarse());
        assert_eq!(breaker.state(), BreakerState::Closed);
    }

    #[test]
    fn a_failed_probe_opens_again_and_application_errors_do_not_count() {
        let breaker = breaker();
        for _ in 0..20 {
            call(&breaker, Some(Code::NotFound));
        }
        assert_eq!(breaker.state(), BreakerState::Closed, "NotFound is the caller's problem");
        for _ in 0..20 {
            call(&breaker, Some(Code::Unavailable));
        }
        assert_eq!(breaker.state(), BreakerState::Open);
        assert!(!call(&breaker, None), "open refuses");
        breaker.end_cool_down();
        assert!(call(&breaker, Some(Code::Unavailable)));
        assert_eq!(breaker.state(), BreakerState::Open);
        assert!(!call(&breaker, None), "the cool-down starts over");
    }

    #[test]
    fn slow_calls_open_it_when_configured() {
        let breaker =
            CircuitBreaker::new(BreakerConfig::default().minimum_calls(5).slow_calls(Duration::from_millis(100), 0.6));
        for _ in 0..5 {
            let permit = breaker.try_acquire().expect("closed");
            breaker.record(permit, None, 200 * MS, clock::coarse());
        }
        assert_eq!(breaker.state(), BreakerState::Open);
    }
}
