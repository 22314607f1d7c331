use std::time::Duration;

/// Caps retries to a share of calls, so a failing cluster is not flooded by them: each call
/// deposits into the budget, each retry withdraws, and a retry the budget cannot pay for is
/// not made. Backed by tower's `TpsBudget`.
///
/// ```
/// use std::time::Duration;
/// let budget = rpc_core::cluster::RetryBudget { ratio: 0.1, min_per_second: 5, window: Duration::from_secs(10) };
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

impl RetryBudget {
    pub(crate) fn build(&self) -> tower::retry::budget::TpsBudget {
        tower::retry::budget::TpsBudget::new(self.window, self.min_per_second, self.ratio)
    }
}
