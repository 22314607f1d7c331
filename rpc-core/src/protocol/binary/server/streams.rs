//! The provider's side of binary-protocol streams on one connection: each open stream runs
//! as a task that feeds the handler the caller's messages and sends the handler's replies,
//! both under the stream window (see `protocol::binary::stream`).

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use dashmap::DashMap;
use rpc_codec::{EventKind, Frame, SerializationId};
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::protocol::binary::stream::{deliver, inbox, pump, InboundMessages, Inbox, STREAM_WINDOW};
use crate::protocol::Annotator;
use crate::provider::call::call;
use crate::provider::ServiceStack;
use crate::{Code, Request, Status};

/// The streams open on one connection. Each runs through the server's service stack `S`,
/// as unary calls do.
pub(crate) struct ServerStreams<S> {
    open: Arc<DashMap<u64, OpenStream>>,
    service: S,
    annotator: Annotator,
    /// Largest reply message a frame can carry.
    max_message: usize,
    /// Streams open at once, at most.
    max_streams: usize,
}

struct OpenStream {
    /// Gone once the caller has ended its side.
    inbox: Option<Inbox>,
    /// Window credit for the replies.
    credit: Arc<Semaphore>,
    stop: CancellationToken,
}

impl<S> ServerStreams<S>
where
    S: ServiceStack,
{
    pub(crate) fn new(service: S, annotator: Annotator, max_frame_size: usize, max_streams: usize) -> ServerStreams<S> {
        let max_message = max_frame_size.saturating_sub(rpc_codec::HEADER_LEN);
        ServerStreams { open: Arc::new(DashMap::new()), service, annotator, max_message, max_streams }
    }

    /// Takes a stream frame from the caller: opens a stream, delivers a message, or ends the
    /// caller's side. Returns a frame to send at once (a refusal), if any.
    pub(crate) fn on_frame(&self, frame: Frame, going_away: bool, replies: &mpsc::Sender<Frame>) -> Option<Frame> {
        let id = frame.request_id;
        if let Some(mut stream) = self.open.get_mut(&id) {
            if frame.is_stream_end() {
                stream.inbox = None;
            } else if let Some(inbox) = stream.inbox.as_ref() {
                if let Err(status) = deliver(inbox, Ok(frame.body)) {
                    stream.stop.cancel();
                    drop(stream);
                    self.open.remove(&id);
                    return Some(end_frame(id, frame.serialization, Err(status)));
                }
            }
            return None;
        }
        if frame.metadata.service.is_empty() {
            // A message for a stream that already ended (it was cancelled or failed): drop it.
            return None;
        }
        if going_away {
            return Some(not_opened(
                id,
                frame.serialization,
                Status::unavailable("provider is shutting down; stream not opened"),
            ));
        }
        if self.open.len() >= self.max_streams {
            // Each open stream holds a task and buffers: a peer may not open them without end.
            let why =
                format!("{} streams already open on this connection (the limit); stream not opened", self.max_streams);
            return Some(not_opened(id, frame.serialization, Status::resource_exhausted(why)));
        }
        let request = match request_from_open(frame) {
            Ok(request) => request,
            Err((serialization, status)) => return Some(end_frame(id, serialization, Err(status))),
        };
        self.open_stream(id, request, replies.clone());
        None
    }

    /// A `Window` or `Cancel` event from the caller; false for other events.
    pub(crate) fn on_event(&self, id: u64, kind: EventKind) -> bool {
        match kind {
            EventKind::Window(credit) => {
                if let Some(stream) = self.open.get(&id) {
                    stream.credit.add_permits(credit.min(STREAM_WINDOW) as usize);
                }
                true
            }
            EventKind::Cancel => {
                if let Some((_, stream)) = self.open.remove(&id) {
                    stream.stop.cancel();
                }
                true
            }
            _ => false,
        }
    }

    /// A frame of stream `id` could not be read (over the size limit): the stream ends with
    /// `status` — the end frame to send is returned.
    pub(crate) fn fail(&self, id: u64, serialization: u8, status: Status) -> Option<Frame> {
        if let Some((_, stream)) = self.open.remove(&id) {
            stream.stop.cancel();
        }
        Some(end_frame(id, serialization, Err(status)))
    }

    /// Stops every open stream (the connection is going).
    pub(crate) fn cancel_all(&self) {
        for stream in self.open.iter() {
            stream.stop.cancel();
        }
        self.open.clear();
    }

    fn open_stream(&self, id: u64, mut request: Request, replies: mpsc::Sender<Frame>) {
        let (sender, receiver) = inbox();
        let credit = Arc::new(Semaphore::new(STREAM_WINDOW as usize));
        let stop = CancellationToken::new();
        self.open.insert(id, OpenStream { inbox: Some(sender), credit: credit.clone(), stop: stop.clone() });
        let serialization = request.serialization as u8;
        let deadline = request.deadline();
        let span =
            tracing::debug_span!("rpc.server.stream", service = request.service(), method = request.method(), id);
        let service = self.service.clone();
        self.annotator.annotate(&mut request);
        let open = self.open.clone();
        let max_message = self.max_message;
        let late = replies.clone();
        let run = async move {
            let inbound = InboundMessages::new(receiver, replies.clone(), id, deadline, Box::new(|| {}));
            let start = call(service, request.with_messages(Box::pin(inbound)));
            let started = tokio::select! {
                biased;
                _ = stop.cancelled() => None,
                started = start => Some(started),
            };
            match started {
                None => {}
                Some(Err(status)) => {
                    let _ = replies.send(end_frame(id, serialization, Err(status))).await;
                }
                Some(Ok(response)) => {
                    let messages = response.into_messages();
                    let message = move |body| Frame::stream_message(id, false, serialization, body);
                    let end = move |result| end_frame(id, serialization, result);
                    pump(messages, max_message, replies.clone(), credit, stop.clone(), message, end).await;
                }
            }
        };
        let bounded = async move {
            match deadline {
                Some(deadline) => {
                    if tokio::time::timeout_at(deadline.into(), run).await.is_err() {
                        let status =
                            Status::deadline_exceeded("deadline passed while the stream ran; it was cancelled");
                        let _ = late.send(end_frame(id, serialization, Err(status))).await;
                    }
                }
                None => run.await,
            }
            open.remove(&id);
        };
        tokio::spawn(bounded.instrument(span));
    }
}

/// The end of a stream refused before it opened, marked not run (so a caller may send it
/// elsewhere).
fn not_opened(id: u64, serialization: u8, status: Status) -> Frame {
    let why = status.message().to_string();
    let mut refusal = end_frame(id, serialization, Err(status));
    refusal.metadata.attachments.insert(crate::protocol::binary::NOT_RUN_ATTACHMENT, why);
    refusal
}

/// The end of the provider's side: status 0, or the error's code and message.
fn end_frame(id: u64, serialization: u8, result: Result<(), Status>) -> Frame {
    match result {
        Ok(()) => Frame::stream_end(id, false, serialization, Code::Ok as u8, Bytes::new()),
        Err(status) => {
            let code = if status.code() == Code::Ok { Code::Unknown } else { status.code() };
            Frame::stream_end(id, false, serialization, code as u8, Bytes::copy_from_slice(status.message().as_bytes()))
        }
    }
}

/// The call a stream's opening frame names, or why it cannot run.
fn request_from_open(frame: Frame) -> Result<Request, (u8, Status)> {
    let serialization = SerializationId::try_from(frame.serialization)
        .map_err(|e| (frame.serialization, Status::invalid_argument(format!("stream not opened: {e}"))))?;
    let deadline = frame.metadata.timeout.map(|remaining| Instant::now() + remaining);
    if deadline.is_some_and(|d| d <= Instant::now()) {
        return Err((frame.serialization, Status::deadline_exceeded("deadline passed before the stream opened")));
    }
    Ok(Request::from_parts(frame.metadata, serialization, false, Bytes::new(), deadline))
}
