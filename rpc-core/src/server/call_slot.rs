use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tracing::Instrument;

/// A heap slot for a connection's call futures, reused while calls finish on their first poll
/// (most do), so running a call allocates nothing. A call that has to wait takes the slot with
/// it into a task of its own, and the next call gets a fresh slot.
///
/// Every call of a connection has the same future type, which is what makes one slot fit all.
pub(crate) struct CallSlot<F> {
    spare: Option<Pin<Box<Option<F>>>>,
}

impl<F: Future<Output = ()> + Send + 'static> CallSlot<F> {
    pub(crate) fn new() -> Self {
        CallSlot { spare: None }
    }

    /// Polls `call` once, here; spawns it if it is not finished, so it never holds up the
    /// connection.
    pub(crate) async fn run(&mut self, call: F) {
        let mut slot = self.spare.take().unwrap_or_else(|| Box::pin(None));
        slot.as_mut().set(Some(call));
        if poll_fn(|cx| Poll::Ready(poll_slot(slot.as_mut(), cx).is_ready())).await {
            self.spare = Some(slot);
        } else {
            tokio::spawn(SlottedCall { slot }.in_current_span());
        }
    }
}

/// A call running as its own task, still in its slot (moving the box moves no future).
struct SlottedCall<F> {
    slot: Pin<Box<Option<F>>>,
}

impl<F: Future<Output = ()>> Future for SlottedCall<F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        poll_slot(self.slot.as_mut(), cx)
    }
}

/// Polls the call in `slot`, dropping it in place once it has finished.
fn poll_slot<F: Future<Output = ()>>(mut slot: Pin<&mut Option<F>>, cx: &mut Context<'_>) -> Poll<()> {
    let Some(call) = slot.as_mut().as_pin_mut() else {
        return Poll::Ready(());
    };
    ready!(call.poll(cx));
    slot.set(None);
    Poll::Ready(())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::CallSlot;

    #[tokio::test]
    async fn finished_calls_reuse_the_slot_and_waiting_ones_run_as_tasks() {
        let done = Arc::new(AtomicUsize::new(0));
        let (release, released) = tokio::sync::watch::channel(false);
        let call = |wait: bool| {
            let (done, mut released) = (done.clone(), released.clone());
            async move {
                if wait {
                    let _ = released.wait_for(|r| *r).await;
                }
                done.fetch_add(1, Ordering::SeqCst);
            }
        };
        let mut slot = CallSlot::new();
        slot.run(call(false)).await;
        let first = slot.spare.as_ref().map(|b| &**b as *const _);
        slot.run(call(false)).await;
        assert_eq!(slot.spare.as_ref().map(|b| &**b as *const _), first, "a finished call's slot is reused");
        slot.run(call(true)).await;
        assert!(slot.spare.is_none(), "a waiting call took the slot into its task");
        assert_eq!(done.load(Ordering::SeqCst), 2);
        release.send(true).expect("the waiting call holds a receiver");
        tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while done.load(Ordering::SeqCst) < 3 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the spawned call finishes");
    }
}
