use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

use dashmap::DashMap;
use rpc_codec::Frame;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::Status;

pub(super) type Reply = Result<Frame, Status>;

const OPEN: u8 = 0;
const GOING_AWAY: u8 = 1;
const CLOSED: u8 = 2;

/// State shared by a connection's callers and its read loop: the calls awaiting a reply.
///
/// The map is sharded (dashmap) so concurrent callers and the reader rarely contend.
/// Closing is ordered so no caller is left waiting: the state becomes CLOSED before the map is
/// drained, and a caller re-checks the state after inserting its slot.
pub(super) struct Pending {
    slots: DashMap<u64, oneshot::Sender<Reply>>,
    state: AtomicU8,
    close_reason: OnceLock<String>,
    /// Tells the write loop to finish what is queued and shut the write half.
    pub(super) stop_writer: CancellationToken,
    pub(super) peer: String,
}

impl Pending {
    pub(super) fn new(peer: String) -> Arc<Pending> {
        Arc::new(Pending {
            slots: DashMap::new(),
            state: AtomicU8::new(OPEN),
            close_reason: OnceLock::new(),
            stop_writer: CancellationToken::new(),
            peer,
        })
    }

    pub(super) fn insert(&self, id: u64, slot: oneshot::Sender<Reply>) {
        self.slots.insert(id, slot);
    }

    /// Forgets a call (its caller gave up); a late reply is then dropped.
    pub(super) fn remove(&self, id: u64) {
        self.slots.remove(&id);
    }

    /// Hands `reply` to the caller of `id`, if it still waits.
    pub(super) fn complete(&self, id: u64, reply: Reply) {
        match self.slots.remove(&id) {
            Some((_, slot)) => {
                let _ = slot.send(reply);
            }
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
        let status = self.closed_status();
        let ids: Vec<u64> = self.slots.iter().map(|entry| *entry.key()).collect();
        for id in ids {
            if let Some((_, slot)) = self.slots.remove(&id) {
                let _ = slot.send(Err(status.clone()));
            }
        }
    }
}

/// Removes a call's slot if its caller stops waiting before the reply (cancel, timeout).
pub(super) struct SlotGuard {
    pub(super) pending: Arc<Pending>,
    pub(super) id: u64,
    pub(super) armed: bool,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        if self.armed {
            self.pending.remove(self.id);
        }
    }
}
