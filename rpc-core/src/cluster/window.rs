use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use super::clock::{self, Stamp};

/// Buckets a window is cut into: it slides by a tenth of its length.
const BUCKETS: usize = 10;

/// Event counts over a sliding time window, as a ring of per-interval buckets of atomics:
/// calls, failures and slow calls for a circuit breaker; calls and retries for the retry
/// budget. A bucket whose interval has passed is reset by the first event that lands in it
/// again. Lock-free: a record is a load and three atomic adds.
#[derive(Debug)]
pub(crate) struct Window {
    buckets: [Bucket; BUCKETS],
    /// A bucket's interval, worked out once: it is divided by on every call. Intervals are
    /// counted from the clock's origin, so a window needs no epoch of its own.
    bucket_ns: u64,
}

#[derive(Debug, Default)]
struct Bucket {
    /// Which interval the counts belong to (interval number + 1; 0 = never used).
    interval: AtomicU64,
    calls: AtomicU32,
    failures: AtomicU32,
    slow: AtomicU32,
}

/// Totals over the window.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) calls: u32,
    pub(crate) failures: u32,
    pub(crate) slow: u32,
}

impl Window {
    /// A window `length` long.
    pub(crate) fn new(length: Duration) -> Window {
        let bucket_ns = (clock::nanos(length) / BUCKETS as u64).max(1);
        Window { buckets: Default::default(), bucket_ns }
    }

    /// The interval `now` falls in: what [`record`](Self::record) and
    /// [`totals`](Self::totals) take.
    pub(crate) fn interval(&self, now: Stamp) -> u64 {
        now.nanos() / self.bucket_ns
    }

    /// Counts one call in interval `interval` (see [`interval`](Self::interval)).
    pub(crate) fn record(&self, interval: u64, failed: bool, slow: bool) {
        let bucket = &self.buckets[(interval % BUCKETS as u64) as usize];
        let tag = interval + 1;
        let seen = bucket.interval.load(Ordering::Acquire);
        if seen != tag && bucket.interval.compare_exchange(seen, tag, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            // A call racing this reset may be lost; the rates are estimates.
            bucket.calls.store(0, Ordering::Relaxed);
            bucket.failures.store(0, Ordering::Relaxed);
            bucket.slow.store(0, Ordering::Relaxed);
        }
        bucket.calls.fetch_add(1, Ordering::Relaxed);
        if failed {
            bucket.failures.fetch_add(1, Ordering::Relaxed);
        }
        if slow {
            bucket.slow.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The counts of the window ending with interval `interval`.
    pub(crate) fn totals(&self, interval: u64) -> Totals {
        let oldest = (interval + 1).saturating_sub(BUCKETS as u64 - 1);
        let mut totals = Totals::default();
        for bucket in &self.buckets {
            let tag = bucket.interval.load(Ordering::Acquire);
            if tag >= oldest.max(1) && tag <= interval + 1 {
                totals.calls += bucket.calls.load(Ordering::Relaxed);
                totals.failures += bucket.failures.load(Ordering::Relaxed);
                totals.slow += bucket.slow.load(Ordering::Relaxed);
            }
        }
        totals
    }

    pub(crate) fn clear(&self) {
        for bucket in &self.buckets {
            bucket.interval.store(0, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Totals, Window};
    use crate::cluster::clock::Stamp;

    #[test]
    fn old_intervals_slide_out() {
        let window = Window::new(Duration::from_secs(10));
        let origin = Stamp::from_nanos(0);
        assert_eq!(window.interval(origin.after(Duration::from_millis(999))), 0);
        assert_eq!(window.interval(origin.after(Duration::from_millis(2500))), 2, "a tenth of the window per interval");
        window.record(0, true, false);
        window.record(0, false, true);
        window.record(5, false, false);
        assert_eq!(window.totals(5), Totals { calls: 3, failures: 1, slow: 1 });
        assert_eq!(window.totals(10), Totals { calls: 1, failures: 0, slow: 0 }, "interval 0 left the window");
        window.record(10, true, false); // lands in interval 0's bucket and resets it
        assert_eq!(window.totals(10), Totals { calls: 2, failures: 1, slow: 0 });
        assert_eq!(window.totals(30), Totals::default());
    }
}
