//! The clock the cluster's per-call bookkeeping reads: the kernel's coarse monotonic clock.
//!
//! Every cluster call reads the time for its retry budget, its breaker's window and its
//! latency. The precise clock costs about 22 ns a read on the 2-core benchmark VM (two reads
//! were ~3 % of the client's CPU per call); the coarse one, 3 ns. Its resolution is one kernel
//! tick (1–4 ms), which is plenty for windows of seconds and slow-call thresholds of a second;
//! the peak-EWMA balancer, which compares sub-millisecond latencies, reads the precise clock
//! instead (see [`Load::now`](super::load::Load::now)). Deadlines always use the precise clock.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The coarse clock's reading as an [`Instant`] on the same timeline as `Instant::now()`,
/// within about a tick of it. Only ever compared with other coarse readings or with
/// long-past origins (a window's epoch), so the offset does not matter.
pub(crate) fn coarse_now() -> Instant {
    let (base, base_coarse) = *BASE.get_or_init(|| (Instant::now(), coarse_since_boot()));
    base + coarse_since_boot().saturating_sub(base_coarse)
}

/// The precise clock and the coarse one read together once: later coarse readings are
/// turned into `Instant`s by adding how far the coarse clock has moved since.
static BASE: OnceLock<(Instant, Duration)> = OnceLock::new();

#[cfg(target_os = "linux")]
fn coarse_since_boot() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid, writable timespec; the clock id is a constant Linux knows.
    let read = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut now) };
    if read != 0 {
        return precise_since_start();
    }
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

#[cfg(not(target_os = "linux"))]
fn coarse_since_boot() -> Duration {
    precise_since_start()
}

/// A precise fallback on the same (arbitrary) origin for every call.
fn precise_since_start() -> Duration {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::coarse_now;

    #[test]
    fn coarse_time_follows_the_precise_clock_within_a_few_ticks() {
        let _ = coarse_now();
        for _ in 0..5 {
            let (before, coarse, after) = (Instant::now(), coarse_now(), Instant::now());
            assert!(coarse.saturating_duration_since(after) < Duration::from_millis(50), "at most a few ticks ahead");
            assert!(before.saturating_duration_since(coarse) < Duration::from_millis(50), "at most a few ticks behind");
            std::thread::sleep(Duration::from_millis(20));
        }
        let start = coarse_now();
        std::thread::sleep(Duration::from_millis(100));
        let moved = coarse_now().duration_since(start);
        assert!(moved >= Duration::from_millis(80) && moved < Duration::from_secs(2), "moved {moved:?}");
    }
}
