use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;
use rpc_codec::Frame;

use crate::Status;

/// What the read loop hands a caller: the reply frame, or why there will be none.
pub(super) type Reply = Result<Frame, Status>;

/// Where the read loop leaves one call's reply for its caller: a one-shot channel that can be
/// used again. A connection keeps finished slots for its next calls, so a call does not
/// allocate one (a `tokio::sync::oneshot` is an allocation per call).
#[derive(Default)]
pub(super) struct ReplySlot {
    reply: Mutex<Option<Reply>>,
    waker: AtomicWaker,
}

impl ReplySlot {
    /// Leaves `reply` and wakes the caller. Called at most once per use, by whoever removed
    /// the slot from the connection's map.
    pub(super) fn fill(&self, reply: Reply) {
        *self.reply.lock().unwrap_or_else(PoisonError::into_inner) = Some(reply);
        self.waker.wake();
    }

    /// The reply, once it is there.
    pub(super) fn poll_reply(&self, cx: &mut Context<'_>) -> Poll<Reply> {
        // Register before looking, so a fill between the two still wakes us.
        self.waker.register(cx.waker());
        match self.reply.lock().unwrap_or_else(PoisonError::into_inner).take() {
            Some(reply) => Poll::Ready(reply),
            None => Poll::Pending,
        }
    }

    /// Ready for another call: no reply, no waker. Only for a slot nobody else holds.
    pub(super) fn reset(self: &mut Arc<Self>) {
        if let Some(slot) = Arc::get_mut(self) {
            *slot.reply.get_mut().unwrap_or_else(PoisonError::into_inner) = None;
            slot.waker.take();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::task::{Context, Poll, Waker};

    use super::ReplySlot;
    use crate::Status;

    #[test]
    fn a_filled_slot_is_ready_once_and_reset_clears_a_late_reply() {
        let mut cx = Context::from_waker(Waker::noop());
        let mut slot = Arc::new(ReplySlot::default());
        assert!(slot.poll_reply(&mut cx).is_pending());
        slot.fill(Err(Status::unavailable("gone")));
        assert!(matches!(slot.poll_reply(&mut cx), Poll::Ready(Err(_))));
        assert!(slot.poll_reply(&mut cx).is_pending());
        slot.fill(Err(Status::unavailable("late")));
        slot.reset();
        assert!(slot.poll_reply(&mut cx).is_pending());
    }
}
