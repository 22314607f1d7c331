use std::time::Duration;

/// Delays between reconnect attempts: exponential from `base` up to `max`, with jitter so
/// clients that lost a provider together do not return together.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    pub(crate) base: Duration,
    pub(crate) max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { base: Duration::from_millis(50), max: Duration::from_secs(5) }
    }
}

impl Backoff {
    /// The wait before attempt `attempt` (0 = the first retry): half the exponential step
    /// plus a random part of the other half ("equal jitter").
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        let step = self.base.saturating_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX)).min(self.max);
        let half = step / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Backoff;

    #[test]
    fn delays_grow_to_the_cap_and_stay_jittered() {
        let backoff = Backoff { base: Duration::from_millis(100), max: Duration::from_secs(2) };
        for attempt in 0..40 {
            let step = (Duration::from_millis(100) * 2u32.saturating_pow(attempt.min(20))).min(Duration::from_secs(2));
            let delay = backoff.delay(attempt);
            assert!(
                delay >= step / 2 && delay <= step,
                "attempt {attempt}: {delay:?} outside {:?}..={step:?}",
                step / 2
            );
        }
    }
}
