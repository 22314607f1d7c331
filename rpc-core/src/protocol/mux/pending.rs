use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};

use slab::Slab;
use tokio_util::sync::CancellationToken;

use crate::Status;

/// What the read loop hands a caller: the reply frame (`T`), or why there will be none.
pub(crate) type Reply<T> = Result<T, Status>;

const OPEN: u8 = 0;
const GOING_AWAY: u8 = 1;
const CLOSED: u8 = 2;

/// Request ids of unary calls are `generation << 32 | slot`; the generation is kept below
/// 2^31 so these ids never have the top bit set, which [`STREAM_ID_BASE`] gives the ids of
/// oneway calls and streams instead.
const GENERATION_MASK: u32 = 0x7FFF_FFFF;

/// Where ids that are not in the pending table (oneway calls, streams) start.
pub(crate) const STREAM_ID_BASE: u64 = 1 << 63;

/// State shared by a connection's callers and its read loop: the calls awaiting a reply.
///
/// The calls live in a slab under one mutex, and a call's request id names its slot: one short
/// lock to register, one to complete, one to take the reply, and no allocation once the slab
/// has grown to the connection's peak in flight. (A sharded map plus a reusable one-shot per
/// call — two more locks and an atomic waker — was about 13 % of the client's CPU.)
///
/// The slot's generation is part of the id, so a late reply to a call whose caller gave up
/// cannot land in the slot's next call.
pub(crate) struct Pending<T> {
    table: Mutex<Table<T>>,
    state: AtomicU8,
    close_reason: OnceLock<String>,
    /// Tells the write loop to finish what is queued and shut the write half.
    pub(crate) stop_writer: CancellationToken,
    /// Cancelled once the connection is closed for good.
    pub(crate) closed: CancellationToken,
    in_flight: AtomicUsize,
    pub(crate) peer: String,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table { calls: Slab::new(), generation: 0, closed: false }
    }
}

struct Table<T> {
    calls: Slab<Call<T>>,
    generation: u32,
    /// Set, under the lock, before the table is drained on close: no call registers after.
    closed: bool,
}

struct Call<T> {
    generation: u32,
    reply: Option<Reply<T>>,
    waker: Option<Waker>,
}

impl<T> Pending<T> {
    pub(crate) fn new(peer: String) -> Arc<Pending<T>> {
        Arc::new(Pending {
            table: Mutex::new(Table::default()),
            state: AtomicU8::new(OPEN),
            close_reason: OnceLock::new(),
            stop_writer: CancellationToken::new(),
            closed: CancellationToken::new(),
            in_flight: AtomicUsize::new(0),
            peer,
        })
    }

    fn table(&self) -> MutexGuard<'_, Table<T>> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a call; its reply is awaited through the returned [`PendingCall`], whose
    /// [`id`](PendingCall::id) the request must carry. Fails once the connection is closed.
    pub(crate) fn insert(self: &Arc<Self>) -> Result<PendingCall<T>, Status> {
        let mut table = self.table();
        if table.closed {
            drop(table);
            return Err(self.closed_status());
        }
        table.generation = table.generation.wrapping_add(1) & GENERATION_MASK;
        let generation = table.generation;
        let key = table.calls.insert(Call { generation, reply: None, waker: None });
        drop(table);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        let id = u64::from(generation) << 32 | key as u64;
        Ok(PendingCall { pending: self.clone(), key, id, registered: true })
    }

    /// Calls registered and not yet finished by their callers.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Hands `reply` to the caller of `id`, if it still waits.
    pub(crate) fn complete(&self, id: u64, reply: Reply<T>) {
        let (key, generation) = ((id & 0xFFFF_FFFF) as usize, (id >> 32) as u32);
        let mut table = self.table();
        match table.calls.get_mut(key) {
            Some(call) if call.generation == generation && call.reply.is_none() => {
                call.reply = Some(reply);
                let waker = call.waker.take();
                drop(table);
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            _ => {
                drop(table);
                tracing::debug!(id, "reply for a call nobody waits for (cancelled or timed out)");
            }
        }
    }

    /// Why a new call cannot use this connection, if it cannot.
    pub(crate) fn refuse_new_calls(&self) -> Option<Status> {
        match self.state.load(Ordering::SeqCst) {
            OPEN => None,
            GOING_AWAY => Some(Status::unavailable(format!("provider {} is shutting down; call not sent", self.peer))),
            _ => Some(self.closed_status()),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.state.load(Ordering::SeqCst) == CLOSED
    }

    pub(crate) fn closed_status(&self) -> Status {
        let reason = self.close_reason.get().map_or("closed", String::as_str);
        Status::unavailable(format!("connection to {}: {reason}", self.peer))
    }

    /// The peer said it accepts no new requests: stop sending, keep waiting for replies.
    pub(crate) fn go_away(&self) {
        if self.state.compare_exchange(OPEN, GOING_AWAY, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
            tracing::debug!(peer = %self.peer, "provider is going away");
            self.stop_writer.cancel();
        }
    }

    /// Closes for good: every waiting caller gets `Unavailable` with `reason`.
    pub(crate) fn close(&self, reason: String) {
        let _ = self.close_reason.set(reason);
        self.state.store(CLOSED, Ordering::SeqCst);
        self.stop_writer.cancel();
        self.closed.cancel();
        let status = self.closed_status();
        let mut wakers = Vec::new();
        let mut table = self.table();
        table.closed = true;
        for (_, call) in table.calls.iter_mut() {
            if call.reply.is_none() {
                call.reply = Some(Err(status.clone()));
                wakers.extend(call.waker.take());
            }
        }
        drop(table);
        wakers.into_iter().for_each(Waker::wake);
    }
}

/// A caller's registered call: polls for its reply, and unregisters it when dropped before
/// the reply (cancel, timeout), so a late reply is dropped.
pub(crate) struct PendingCall<T> {
    pub(crate) pending: Arc<Pending<T>>,
    key: usize,
    id: u64,
    /// Still in the table: until the reply has been taken.
    registered: bool,
}

impl<T> PendingCall<T> {
    /// The request id the call is sent under.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The reply, once the read loop has left it.
    pub(crate) fn poll_reply(&mut self, cx: &mut Context<'_>) -> Poll<Reply<T>> {
        if !self.registered {
            return Poll::Ready(Err(Status::internal("reply polled after it was taken")));
        }
        let mut table = self.pending.table();
        let Some(call) = table.calls.get_mut(self.key) else {
            return Poll::Ready(Err(Status::internal("pending call lost its slot")));
        };
        if let Some(reply) = call.reply.take() {
            table.calls.remove(self.key);
            drop(table);
            self.unregistered();
            return Poll::Ready(reply);
        }
        match &call.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => call.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    fn unregistered(&mut self) {
        self.registered = false;
        self.pending.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl<T> Drop for PendingCall<T> {
    fn drop(&mut self) {
        if self.registered {
            let call = self.pending.table().calls.try_remove(self.key);
            // The reply (if it came) is dropped outside the lock.
            drop(call);
            self.unregistered();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::task::{Context, Poll, Waker};

    use rpc_codec::{Frame, Metadata};

    use super::Pending;
    use crate::Status;

    fn reply(id: u64) -> Frame {
        Frame::request(id, Metadata::call("svc", "m"), bytes::Bytes::new())
    }

    #[test]
    fn a_reply_reaches_its_call_once_and_a_late_one_never_reaches_the_slots_next_call() {
        let mut cx = Context::from_waker(Waker::noop());
        let pending = Pending::new("peer".into());
        let mut first = pending.insert().expect("open");
        assert!(first.poll_reply(&mut cx).is_pending());
        pending.complete(first.id(), Ok(reply(first.id())));
        assert!(matches!(first.poll_reply(&mut cx), Poll::Ready(Ok(_))));
        assert!(matches!(first.poll_reply(&mut cx), Poll::Ready(Err(_))), "the reply is taken once");
        assert_eq!(pending.in_flight(), 0);

        // A caller gives up; its slot is reused by the next call under a new generation.
        let gave_up = pending.insert().expect("open");
        let stale_id = gave_up.id();
        drop(gave_up);
        let mut next = pending.insert().expect("open");
        assert_ne!(next.id(), stale_id);
        assert_eq!(next.id() & 0xFFFF_FFFF, stale_id & 0xFFFF_FFFF, "same slot");
        pending.complete(stale_id, Ok(reply(stale_id)));
        assert!(next.poll_reply(&mut cx).is_pending(), "the late reply was dropped");
        assert_eq!(pending.in_flight(), 1);
        drop(next);
        assert_eq!(pending.in_flight(), 0);
    }

    #[test]
    fn closing_fails_waiting_calls_and_refuses_new_ones() {
        let mut cx = Context::from_waker(Waker::noop());
        let pending = Pending::<Frame>::new("peer".into());
        let mut waiting = pending.insert().expect("open");
        assert!(waiting.poll_reply(&mut cx).is_pending());
        pending.close("gone".into());
        match waiting.poll_reply(&mut cx) {
            Poll::Ready(Err(status)) => assert!(status.message().contains("gone"), "{status:?}"),
            other => panic!("expected the close status, got {other:?}"),
        }
        assert!(pending.insert().is_err());
        let status: Status = pending.closed_status();
        assert_eq!(status.code(), crate::Code::Unavailable);
        assert!(status.message().contains("peer") && status.message().contains("gone"), "{status}");
    }
}
