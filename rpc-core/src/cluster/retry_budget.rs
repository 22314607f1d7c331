use std::time::Duration;

use crate::cluster::clock::Stamp;
use crate::cluster::window::Window;

/// Caps retries to a share of calls, so a failing cluster is not flooded by them: each call
/// deposits into the budget, each retry withdraws, and a retry the budget cannot pay for is
/// not made.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// use std::time::Duration;
/// let budget = rpc::cluster::RetryBudget { ratio: 0.1, min_per_second: 5, window: Duration::from_secs(10) };
/// # drop(budget);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryBudget {
    /// Retries allowed per call, on average (0.2 = one retry per five calls).
    pub ratio: f32,
    /// Retries allowed per second regardless of traffic, so a quiet client can still retry.
    pub min_per_second: u32,
    /// How long a deposit counts.
    pub window: Duration,
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget { ratio: 0.2, min_per_second: 10, window: Duration::from_secs(10) }
    }
}

/// A [`RetryBudget`] at work: calls and retries over a sliding window of atomic buckets (the
/// same window the circuit breakers use). tower's `TpsBudget` does this job but takes a mutex
/// on every deposit, which showed in the cluster client's profile; this takes none.
#[derive(Debug)]
pub(crate) struct Budget {
    config: RetryBudget,
    /// Calls and retries: a call is an event, a retry an event that "failed".
    window: Window,
}

impl Budget {
    pub(crate) fn new(config: RetryBudget) -> Budget {
        Budget { config, window: Window::new(config.window) }
    }

    /// A call was made.
    pub(crate) fn deposit(&self, now: Stamp) {
        self.window.record(self.window.interval(now), false, false);
    }

    /// Whether a retry may be made now; if so, it is counted.
    pub(crate) fn withdraw(&self, now: Stamp) -> bool {
        let interval = self.window.interval(now);
        let totals = self.window.totals(interval);
        let retries = f64::from(totals.failures);
        let calls = f64::from(totals.calls) - retries;
        // Whole retries only (one per five calls at 0.2); the epsilon absorbs f32 rounding.
        let allowance = (f64::from(self.config.min_per_second) * self.config.window.as_secs_f64()
            + f64::from(self.config.ratio) * calls
            + 1e-6)
            .floor();
        if retries < allowance {
            self.window.record(interval, true, false);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Budget, RetryBudget};
    use crate::cluster::clock;

    #[test]
    fn retries_are_a_share_of_calls_plus_a_floor() {
        let budget = Budget::new(RetryBudget { ratio: 0.2, min_per_second: 1, window: Duration::from_secs(10) });
        let now = clock::coarse();
        for _ in 0..100 {
            budget.deposit(now);
        }
        let allowed = (0..100).filter(|_| budget.withdraw(now)).count();
        assert_eq!(allowed, 30, "20 from the ratio and 10 from the floor");
        let none = Budget::new(RetryBudget { ratio: 0.0, min_per_second: 0, window: Duration::from_secs(10) });
        none.deposit(now);
        assert!(!none.withdraw(now));
    }

    #[test]
    fn the_default_allows_a_fifth_of_calls_plus_ten_a_second() {
        let budget = Budget::new(RetryBudget::default());
        let now = clock::coarse();
        for _ in 0..1_000 {
            budget.deposit(now);
        }
        let allowed = (0..1_000).filter(|_| budget.withdraw(now)).count();
        assert_eq!(allowed, 200 + 10 * 10, "20 % of 1,000 calls, and 10 a second over the 10 s window");
    }
}
