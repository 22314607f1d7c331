//! The clock the cluster's per-call bookkeeping reads: the kernel's monotonic clock as plain
//! nanoseconds, coarse by default.
//!
//! Every cluster call reads the time for its retry budget, its breaker's window and its
//! latency. The precise clock costs about 22 ns a read on the 2-core benchmark VM (two reads
//! were ~3 % of the client's CPU per call); the coarse one, 3 ns. Its resolution is one kernel
//! tick (1–4 ms), which is plenty for windows of seconds and slow-call thresholds of a second;
//! the peak-EWMA balancer, which compares sub-millisecond latencies, reads the precise clock
//! instead (see [`Load::now`](super::load::Load::now)). Deadlines always use `Instant`.
//!
//! Readings are [`Stamp`]s — a `u64`, not an `Instant` — because the arithmetic on them is
//! on the hot path: `Instant`'s subtraction and conversion to nanoseconds went through
//! `timespec` normalisation, ~190 instructions per call under callgrind.

use std::time::Duration;

/// A reading of the monotonic clock in nanoseconds (since boot on Linux). Coarse and precise
/// readings share the timeline, so they may be compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Stamp(u64);

impl Stamp {
    #[cfg(test)]
    pub(crate) fn from_nanos(nanos: u64) -> Stamp {
        Stamp(nanos)
    }

    /// Nanoseconds since the clock's origin.
    pub(crate) fn nanos(self) -> u64 {
        self.0
    }

    /// Nanoseconds from `earlier` to this reading (0 if `earlier` is later).
    pub(crate) fn nanos_since(self, earlier: Stamp) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// The reading `duration` later.
    #[cfg(test)]
    pub(crate) fn after(self, duration: Duration) -> Stamp {
        Stamp(self.0.saturating_add(nanos(duration)))
    }
}

/// The clock to a tick (1–4 ms): cheap, for windows and thresholds of milliseconds or more.
pub(crate) fn coarse() -> Stamp {
    read(COARSE)
}

/// The clock to the nanosecond: for latencies compared below a tick.
pub(crate) fn precise() -> Stamp {
    read(PRECISE)
}

/// A duration in nanoseconds, saturating (584 years).
pub(crate) fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(target_os = "linux")]
const COARSE: libc::clockid_t = libc::CLOCK_MONOTONIC_COARSE;
#[cfg(target_os = "linux")]
const PRECISE: libc::clockid_t = libc::CLOCK_MONOTONIC;

#[cfg(target_os = "linux")]
fn read(clock: libc::clockid_t) -> Stamp {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid, writable timespec; the clock id is a constant Linux knows.
    let read = unsafe { libc::clock_gettime(clock, &mut now) };
    if read != 0 {
        return fallback();
    }
    Stamp((now.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(now.tv_nsec as u64))
}

#[cfg(not(target_os = "linux"))]
const COARSE: u8 = 0;
#[cfg(not(target_os = "linux"))]
const PRECISE: u8 = 1;

#[cfg(not(target_os = "linux"))]
fn read(_clock: u8) -> Stamp {
    fallback()
}

/// `Instant` on a fixed origin, where the kernel clock cannot be read. Only for platforms
/// without `clock_gettime`'s clocks: on Linux it would mix timelines with the readings above.
#[cold]
fn fallback() -> Stamp {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    Stamp(nanos(START.get_or_init(Instant::now).elapsed()))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{coarse, precise};

    #[test]
    fn coarse_time_follows_the_precise_clock_within_a_few_ticks() {
        let ticks = Duration::from_millis(50).as_nanos() as u64;
        for _ in 0..5 {
            let (before, rough, after) = (precise(), coarse(), precise());
            assert!(rough.nanos_since(after) < ticks, "at most a few ticks ahead");
            assert!(before.nanos_since(rough) < ticks, "at most a few ticks behind");
            assert!(after >= before);
            std::thread::sleep(Duration::from_millis(20));
        }
        let start = coarse();
        std::thread::sleep(Duration::from_millis(100));
        let moved = Duration::from_nanos(coarse().nanos_since(start));
        assert!(moved >= Duration::from_millis(80) && moved < Duration::from_secs(2), "moved {moved:?}");
        assert_eq!(start.after(Duration::from_millis(5)).nanos_since(start), 5_000_000);
    }
}
