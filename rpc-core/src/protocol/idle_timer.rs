use std::pin::Pin;
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};

pin_project! {
    /// Detects silence without touching a timer per frame: one timer fires every `period`;
    /// [`IdleTimer::expired`] completes after `limit` consecutive periods with no
    /// [`IdleTimer::activity`]. So silence is noticed after between `limit` and `limit + 1`
    /// periods — the price of not re-arming a timer on every frame.
    pub(crate) struct IdleTimer {
        #[pin]
        tick: Sleep,
        period: Duration,
        limit: u32,
        silent_periods: u32,
        active: bool,
    }
}

impl IdleTimer {
    /// Completes after one to two `period`s of silence.
    pub(crate) fn new(period: Duration) -> IdleTimer {
        IdleTimer::after_periods(period, 1)
    }

    /// Completes after `limit` to `limit + 1` `period`s of silence.
    pub(crate) fn after_periods(period: Duration, limit: u32) -> IdleTimer {
        IdleTimer { tick: tokio::time::sleep(period), period, limit: limit.max(1), silent_periods: 0, active: false }
    }

    /// Something happened: the current period is not silent.
    pub(crate) fn activity(self: Pin<&mut Self>) {
        *self.project().active = true;
    }

    /// Waits until the limit of silent periods is reached.
    pub(crate) async fn expired(mut self: Pin<&mut Self>) {
        loop {
            self.as_mut().project().tick.await;
            let this = self.as_mut().project();
            if std::mem::take(this.active) {
                *this.silent_periods = 0;
            } else {
                *this.silent_periods += 1;
                if *this.silent_periods >= *this.limit {
                    return;
                }
            }
            let next = Instant::now() + *this.period;
            this.tick.reset(next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn expires_only_after_enough_silent_periods() {
        let timer = IdleTimer::after_periods(Duration::from_secs(1), 3);
        tokio::pin!(timer);
        let started = Instant::now();
        // Activity in the first period postpones expiry by that period.
        timer.as_mut().activity();
        timer.as_mut().expired().await;
        assert_eq!(started.elapsed(), Duration::from_secs(4));
    }
}
