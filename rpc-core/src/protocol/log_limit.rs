use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// A budget of log lines per second for one call site that any peer can trigger (a
/// connection that breaks the protocol, a failed accept): a flood of bad connections then
/// costs a few lines a second, not one each, and the line that is written says how many were
/// left out since the last one.
///
/// ```ignore
/// static PROTOCOL_ERRORS: LogLimit = LogLimit::new(10);
/// if let Some(suppressed) = PROTOCOL_ERRORS.admit() {
///     tracing::warn!(suppressed, "closing connection on a protocol error");
/// }
/// ```
pub(crate) struct LogLimit {
    per_second: u32,
    /// The second (since the first use of any limit) the count is for.
    second: AtomicU64,
    count: AtomicU32,
    suppressed: AtomicU64,
}

impl LogLimit {
    pub(crate) const fn new(per_second: u32) -> LogLimit {
        LogLimit { per_second, second: AtomicU64::new(0), count: AtomicU32::new(0), suppressed: AtomicU64::new(0) }
    }

    /// Whether to write this line: `Some(lines left out since the last written)`, or `None`
    /// past this second's budget.
    pub(crate) fn admit(&self) -> Option<u64> {
        static START: OnceLock<Instant> = OnceLock::new();
        let now = START.get_or_init(Instant::now).elapsed().as_secs();
        let seen = self.second.load(Ordering::Relaxed);
        if seen != now && self.second.compare_exchange(seen, now, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
            self.count.store(0, Ordering::Relaxed);
        }
        if self.count.fetch_add(1, Ordering::Relaxed) < self.per_second {
            Some(self.suppressed.swap(0, Ordering::Relaxed))
        } else {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_gets_the_budget_and_the_next_line_counts_the_rest() {
        let limit = LogLimit::new(5);
        let admitted = (0..10_000).filter(|_| limit.admit().is_some()).count();
        // Within one second 5 lines; a second boundary crossed during the loop allows 5 more.
        assert!((5..=10).contains(&admitted), "{admitted} admitted");
        // The first line of a new second reports what was left out.
        limit.second.store(u64::MAX, Ordering::Relaxed);
        assert_eq!(limit.admit(), Some(10_000 - admitted as u64));
        assert_eq!(limit.admit(), Some(0));
    }
}
