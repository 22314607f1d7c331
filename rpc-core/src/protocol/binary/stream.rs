//! Streams on the binary protocol: flow control and the receiving end, shared by client and
//! server.
//!
//! Each side of a stream may send at most [`STREAM_WINDOW`] messages ahead of what the
//! receiver has consumed; the receiver returns credit with `Window` events as its consumer
//! reads. So a connection's reader never waits on one stream (its inbox has room for the
//! whole window), and a slow consumer stops its sender instead of growing a buffer.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use rpc_codec::{EventKind, Frame};
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::{MessageStream, Status};

/// Messages a sender may have unconsumed at the receiver, per stream and direction.
pub(crate) const STREAM_WINDOW: u32 = 256;

/// Where a connection's reader drops one stream's messages; room for a whole window, the
/// peer's end and a local error (the connection closing), so `try_send` never fails for a
/// peer that respects the window and no end is lost.
pub(crate) type Inbox = mpsc::Sender<Result<Bytes, Status>>;

pub(crate) fn inbox() -> (Inbox, mpsc::Receiver<Result<Bytes, Status>>) {
    mpsc::channel(STREAM_WINDOW as usize + 2)
}

/// Delivers one inbound message; a full inbox means the peer ignored the window.
pub(crate) fn deliver(inbox: &Inbox, message: Result<Bytes, Status>) -> Result<(), Status> {
    match inbox.try_send(message) {
        Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => Ok(()),
        Err(mpsc::error::TrySendError::Full(_)) => {
            Err(Status::resource_exhausted(format!("peer sent past the stream window of {STREAM_WINDOW} messages")))
        }
    }
}

/// The receiving end of a stream, as the consumer reads it: returns credit every half
/// window, ends with `DeadlineExceeded` at the deadline, and tells the peer to stop (a
/// `Cancel` event) if dropped before the end. `on_drop` runs when it goes (cleanup).
pub(crate) struct InboundMessages {
    receiver: mpsc::Receiver<Result<Bytes, Status>>,
    control: mpsc::Sender<Frame>,
    id: u64,
    consumed: u32,
    ended: bool,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    on_drop: Option<Box<dyn FnOnce() + Send>>,
}

impl InboundMessages {
    pub(crate) fn new(
        receiver: mpsc::Receiver<Result<Bytes, Status>>,
        control: mpsc::Sender<Frame>,
        id: u64,
        deadline: Option<Instant>,
        on_drop: Box<dyn FnOnce() + Send>,
    ) -> InboundMessages {
        InboundMessages {
            receiver,
            control,
            id,
            consumed: 0,
            ended: false,
            deadline: deadline.map(|d| Box::pin(tokio::time::sleep_until(d.into()))),
            on_drop: Some(on_drop),
        }
    }
}

impl Stream for InboundMessages {
    type Item = Result<Bytes, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.ended {
            return Poll::Ready(None);
        }
        if let Some(deadline) = this.deadline.as_mut() {
            if deadline.as_mut().poll(cx).is_ready() {
                this.ended = true;
                let _ = this.control.try_send(Frame::event(this.id, EventKind::Cancel, false));
                return Poll::Ready(Some(Err(Status::deadline_exceeded("deadline passed mid-stream"))));
            }
        }
        match this.receiver.poll_recv(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                this.ended = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(status))) => {
                this.ended = true;
                Poll::Ready(Some(Err(status)))
            }
            Poll::Ready(Some(Ok(message))) => {
                this.consumed += 1;
                if this.consumed >= STREAM_WINDOW / 2
                    && this.control.try_send(Frame::event(this.id, EventKind::Window(this.consumed), false)).is_ok()
                {
                    this.consumed = 0;
                }
                Poll::Ready(Some(Ok(message)))
            }
        }
    }
}

impl Drop for InboundMessages {
    fn drop(&mut self) {
        if !self.ended {
            let _ = self.control.try_send(Frame::event(self.id, EventKind::Cancel, false));
        }
        if let Some(on_drop) = self.on_drop.take() {
            on_drop();
        }
    }
}

/// Sends `messages` as stream frames of `id` through `queue`, one window credit per
/// message, until they end (then an end frame built by `end`), `stop` fires, or the
/// connection closes. A message over `max_message` bytes ends the stream with
/// `ResourceExhausted` rather than reaching the codec (which would fail the connection).
pub(crate) async fn pump(
    mut messages: MessageStream,
    max_message: usize,
    queue: mpsc::Sender<Frame>,
    credit: Arc<Semaphore>,
    stop: CancellationToken,
    message: impl Fn(Bytes) -> Frame,
    end: impl Fn(Result<(), Status>) -> Frame,
) {
    loop {
        let next = tokio::select! {
            biased;
            _ = stop.cancelled() => return,
            next = messages.next() => next,
        };
        let frame = match next {
            Some(Ok(bytes)) if bytes.len() > max_message => {
                let status = Status::resource_exhausted(format!(
                    "stream message of {} bytes over the frame limit ({max_message} bytes of body)",
                    bytes.len()
                ));
                let _ = queue.send(end(Err(status))).await;
                return;
            }
            Some(Ok(bytes)) => {
                let permit = tokio::select! {
                    biased;
                    _ = stop.cancelled() => return,
                    permit = credit.acquire() => permit,
                };
                match permit {
                    Ok(permit) => permit.forget(),
                    Err(_) => return,
                }
                message(bytes)
            }
            Some(Err(status)) => {
                let _ = queue.send(end(Err(status))).await;
                return;
            }
            None => {
                let _ = queue.send(end(Ok(()))).await;
                return;
            }
        };
        if queue.send(frame).await.is_err() {
            return;
        }
    }
}
