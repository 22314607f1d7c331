use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tracing::Instrument;

use super::ReplyQueue;

/// A heap slot for a connection's call futures, reused while calls finish on their first poll
/// (most do), so running a call allocates nothing. A call that has to wait takes the slot with
/// it into a task of its own, and the next call gets a fresh slot.
///
/// Every call of a connection has the same future type, which is what makes one slot fit all.
/// A call's output is its reply frame (`T`), if it has one.
pub(crate) struct CallSlot<F> {
    spare: Option<Pin<Box<Option<F>>>>,
}

impl<F, T> CallSlot<F>
where
    F: Future<Output = Option<T>> + Send + 'static,
    T: Send + 'static,
{
    pub(crate) fn new() -> Self {
        CallSlot { spare: None }
    }

    /// Polls `call` once, here, and returns its reply if it finished. Otherwise the call goes
    /// on as its own task, so it never holds up the connection, and sends its reply to
    /// `replies` when it has one.
    ///
    /// The call is moved once, into the slot, and polled there: passed into an `async fn`
    /// instead, it was copied into that function's state and again into the slot (a call
    /// future is several hundred bytes, and those copies showed under callgrind).
    pub(crate) fn run<'a>(&'a mut self, call: F, replies: &'a mut ReplyQueue<T>) -> RunOnce<'a, F, T> {
        let mut slot = self.spare.take().unwrap_or_else(|| Box::pin(None));
        slot.as_mut().set(Some(call));
        RunOnce { calls: self, slot: Some(slot), replies }
    }
}

/// A call's first poll ([`CallSlot::run`]): ready at once, with the reply if the call
/// finished.
pub(crate) struct RunOnce<'a, F, T> {
    calls: &'a mut CallSlot<F>,
    slot: Option<Pin<Box<Option<F>>>>,
    replies: &'a mut ReplyQueue<T>,
}

impl<F, T> Future for RunOnce<'_, F, T>
where
    F: Future<Output = Option<T>> + Send + 'static,
    T: Send + 'static,
{
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        // Every field is `Unpin`: the call itself stays pinned in its box.
        let this = self.get_mut();
        let Some(mut slot) = this.slot.take() else {
            return Poll::Ready(None);
        };
        match poll_slot(slot.as_mut(), cx) {
            Poll::Ready(reply) => {
                this.calls.spare = Some(slot);
                Poll::Ready(reply)
            }
            Poll::Pending => {
                let replies = this.replies.sender().clone();
                let call = SlottedCall { slot };
                tokio::spawn(
                    async move {
                        if let Some(reply) = call.await {
                            // Fails only if the connection is gone; then nobody waits for it.
                            let _ = replies.send(reply).await;
                        }
                    }
                    .in_current_span(),
                );
                Poll::Ready(None)
            }
        }
    }
}

/// A call running as its own task, still in its slot (moving the box moves no future).
struct SlottedCall<F> {
    slot: Pin<Box<Option<F>>>,
}

impl<F: Future<Output = Option<T>>, T> Future for SlottedCall<F> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        poll_slot(self.slot.as_mut(), cx)
    }
}

/// Polls the call in `slot`, dropping it in place once it has finished.
fn poll_slot<F: Future<Output = Option<T>>, T>(mut slot: Pin<&mut Option<F>>, cx: &mut Context<'_>) -> Poll<Option<T>> {
    let Some(call) = slot.as_mut().as_pin_mut() else {
        return Poll::Ready(None);
    };
    let reply = ready!(call.poll(cx));
    slot.set(None);
    Poll::Ready(reply)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rpc_codec::Frame;

    use super::{CallSlot, ReplyQueue};

    fn reply(id: u64) -> Option<Frame> {
        Some(Frame::response(id, 1, 0, bytes::Bytes::new()))
    }

    #[tokio::test]
    async fn finished_calls_reuse_the_slot_and_waiting_ones_reply_from_their_task() {
        let mut replies = ReplyQueue::new(4);
        let (release, released) = tokio::sync::watch::channel(false);
        let call = |id: u64, wait: bool| {
            let mut released = released.clone();
            async move {
                if wait {
                    let _ = released.wait_for(|r| *r).await;
                }
                reply(id)
            }
        };
        let mut slot = CallSlot::new();
        assert_eq!(slot.run(call(1, false), &mut replies).await.map(|f| f.request_id), Some(1));
        let first = slot.spare.as_ref().map(|b| &**b as *const _);
        assert_eq!(slot.run(call(2, false), &mut replies).await.map(|f| f.request_id), Some(2));
        assert_eq!(slot.spare.as_ref().map(|b| &**b as *const _), first, "a finished call's slot is reused");
        assert!(slot.run(call(3, true), &mut replies).await.is_none());
        assert!(slot.spare.is_none(), "a waiting call took the slot into its task");
        release.send(true).expect("the waiting call holds a receiver");
        let late =
            tokio::time::timeout(Duration::from_secs(5), replies.recv()).await.expect("the spawned call replies");
        assert_eq!(late.map(|f| f.request_id), Some(3));
    }
}
