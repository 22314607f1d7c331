use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use dashmap::DashMap;
use tokio_util::sync::CancellationToken;

use super::reply_slot::{Reply, ReplySlot};
use crate::Status;

/// Finished reply slots a connection keeps for reuse; beyond this many in flight at once,
/// slots are allocated and freed.
const SPARE_SLOTS: usize = 1024;

const OPEN: u8 = 0;
const GOING_AWAY: u8 = 1;
const CLOSED: u8 = 2;

/// State shared by a connection's callers and its read loop: the calls awaiting a reply.
///
/// The map is sharded (dashmap) so concurrent callers and the reader rarely contend.
/// Closing is ordered so no caller is left waiting: the state becomes CLOSED before the map is
/// drained, and a caller re-checks the state after inserting its slot.
pub(super) struct Pending {
    slots: DashMap<u64, Arc<ReplySlot>>,
    spare: Mutex<Vec<Arc<ReplySlot>>>,
    state: AtomicU8,
    close_reason: OnceLock<String>,
    /// Tells the write loop to finish what is queued and shut the write half.
    pub(super) stop_writer: CancellationToken,
    /// Cancelled once the connection is closed for good.
    pub(super) closed: CancellationToken,
    in_flight: AtomicUsize,
    pub(super) peer: String,
}

impl Pending {
    pub(super) fn new(peer: String) -> Arc<Pending> {
        Arc::new(Pending {
            slots: DashMap::new(),
            spare: Mutex::new(Vec::new()),
            state: AtomicU8::new(OPEN),
            close_reason: OnceLock::new(),
            stop_writer: CancellationToken::new(),
            closed: CancellationToken::new(),
            in_flight: AtomicUsize::new(0),
            peer,
        })
    }

    /// Registers call `id`; its reply will be left in the returned slot, which the caller
    /// keeps in a [`SlotGuard`].
    pub(super) fn insert(self: &Arc<Self>, id: u64) -> SlotGuard {
        let slot = self.spare.lock().unwrap_or_else(PoisonError::into_inner).pop().unwrap_or_default();
        self.slots.insert(id, slot.clone());
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        SlotGuard { pending: self.clone(), id, slot: Some(slot), armed: true }
    }

    /// Keeps `slot` for a later call if nobody else holds it any more (the read loop may
    /// still, for an instant after filling it).
    fn recycle(&self, mut slot: Arc<ReplySlot>) {
        if Arc::strong_count(&slot) != 1 {
            return;
        }
        slot.reset();
        let mut spare = self.spare.lock().unwrap_or_else(PoisonError::into_inner);
        if spare.len() < SPARE_SLOTS {
            spare.push(slot);
        }
    }

    /// Forgets a call (its caller gave up); a late reply is then dropped.
    pub(super) fn remove(&self, id: u64) {
        self.slots.remove(&id);
    }

    /// Calls registered and not yet finished by their callers.
    pub(super) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Hands `reply` to the caller of `id`, if it still waits.
    pub(super) fn complete(&self, id: u64, reply: Reply) {
        match self.slots.remove(&id) {
            Some((_, slot)) => slot.fill(reply),
            None => tracing::debug!(id, "reply for a call nobody waits for (cancelled or timed out)"),
        }
    }

    /// Why a new call cannot use this connection, if it cannot.
    pub(super) fn refuse_new_calls(&self) -> Option<Status> {
        match self.state.load(Ordering::SeqCst) {
            OPEN => None,
            GOING_AWAY => Some(Status::unavailable(format!("provider {} is shutting down; call not sent", self.peer))),
            _ => Some(self.closed_status()),
        }
    }

    pub(super) fn is_closed(&self) -> bool {
        self.state.load(Ordering::SeqCst) == CLOSED
    }

    pub(super) fn closed_status(&self) -> Status {
        let reason = self.close_reason.get().map_or("closed", String::as_str);
        Status::unavailable(format!("connection to {}: {reason}", self.peer))
    }

    /// The peer said it accepts no new requests: stop sending, keep waiting for replies.
    pub(super) fn go_away(&self) {
        if self.state.compare_exchange(OPEN, GOING_AWAY, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
            tracing::debug!(peer = %self.peer, "provider is going away");
            self.stop_writer.cancel();
        }
    }

    /// Closes for good: every waiting caller gets `Unavailable` with `reason`.
    pub(super) fn close(&self, reason: String) {
        let _ = self.close_reason.set(reason);
        self.state.store(CLOSED, Ordering::SeqCst);
        self.stop_writer.cancel();
        self.closed.cancel();
        let status = self.closed_status();
        let ids: Vec<u64> = self.slots.iter().map(|entry| *entry.key()).collect();
        for id in ids {
            if let Some((_, slot)) = self.slots.remove(&id) {
                slot.fill(Err(status.clone()));
            }
        }
    }
}

/// A caller's hold on its reply slot. Removes the call from the connection if the caller
/// stops waiting before the reply (cancel, timeout), and gives the slot back for reuse.
pub(super) struct SlotGuard {
    pub(super) pending: Arc<Pending>,
    id: u64,
    slot: Option<Arc<ReplySlot>>,
    /// Still registered under `id`: set until the reply has been taken.
    armed: bool,
}

impl SlotGuard {
    /// The reply, once the read loop has left it.
    pub(super) fn poll_reply(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Reply> {
        let Some(slot) = &self.slot else {
            return std::task::Poll::Ready(Err(Status::internal("reply polled after it was taken")));
        };
        let reply = std::task::ready!(slot.poll_reply(cx));
        self.armed = false;
        std::task::Poll::Ready(reply)
    }
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        self.pending.in_flight.fetch_sub(1, Ordering::Relaxed);
        if self.armed {
            self.pending.remove(self.id);
        }
        if let Some(slot) = self.slot.take() {
            self.pending.recycle(slot);
        }
    }
}
