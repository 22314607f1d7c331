use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use dashmap::DashMap;
use pin_project_lite::pin_project;
use rpc_codec::{EventKind, Flags, Frame, FrameCodec, Inbound, RejectReason, SerializationId};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, Semaphore};
use tokio_util::codec::Encoder;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::stream::{self, InboundMessages};
use crate::protocol::mux::{spawn_write_loop, FrameReader, Pending, PendingCall, STREAM_ID_BASE};
use crate::protocol::IdleTimer;
use crate::protocol::{Connected, ConnectionConfig, ProtocolConnection};
use crate::request::Returned;
use crate::{BoxFuture, Code, MessageStream, Protocol, Request, Response, Status};

/// A client's multiplexed binary-protocol connection to one provider. Cheap to clone; all
/// clones share one socket, and many calls may be in flight at once, answered in any order.
///
/// When the last clone is dropped the write half is shut down, and the provider closes the
/// connection once it has answered what was in flight.
#[derive(Clone)]
pub(crate) struct BinaryConnection {
    queue: mpsc::Sender<Frame>,
    pending: Arc<Pending<Frame>>,
    streams: Arc<ClientStreams>,
    /// Ids of oneway calls and streams (calls awaiting a reply take theirs from `pending`).
    next_id: Arc<AtomicU64>,
    codec: FrameCodec,
}

impl BinaryConnection {
    /// A connection over a TCP stream just opened to `peer`, once the provider has answered a
    /// heartbeat: a provider that accepts connections but answers nothing (a hung or stopped
    /// process, whose kernel still completes the TCP handshake) is never handed calls, and
    /// one that is shutting down is refused here. The caller bounds the wait.
    pub(crate) async fn handshake<IO: Connected>(
        stream: IO,
        peer: String,
        config: &ConnectionConfig,
    ) -> Result<BinaryConnection, Status> {
        let (read, mut write) = stream.split();
        let mut codec = FrameCodec::new(config.max_frame_size);
        let mut hello = BytesMut::new();
        codec
            .encode(Frame::event(0, EventKind::Heartbeat, true), &mut hello)
            .map_err(|e| Status::internal(format!("encode the opening heartbeat: {e}")))?;
        write.write_all(&hello).await.map_err(|e| Status::unavailable(format!("write to {peer}: {e}")))?;
        let mut frames = FrameReader::new(read, codec);
        loop {
            let frame = match frames.next().await {
                Some(Ok(Inbound::Frame(frame))) => frame,
                Some(Ok(Inbound::Rejected { reason, .. })) => {
                    return Err(Status::unavailable(format!("{peer} opened with an unreadable frame: {reason}")))
                }
                Some(Err(e)) => return Err(Status::unavailable(format!("{peer} did not answer the handshake: {e}"))),
                None => return Err(Status::unavailable(format!("{peer} closed the connection on opening"))),
            };
            match frame.event_kind() {
                Some(EventKind::Heartbeat) if !frame.flags.is_request() => break,
                Some(EventKind::GoAway) => return Err(Status::unavailable(format!("{peer} is shutting down"))),
                // A heartbeat of the provider's own, or an event this build does not know.
                _ => continue,
            }
        }
        Ok(BinaryConnection::from_parts(frames, write, peer, config))
    }

    /// A connection over any byte stream already open to a provider: an in-memory duplex in
    /// tests and benchmarks, a Unix socket. `peer` names it in errors and traces.
    pub(crate) fn from_io<IO>(io: IO, peer: impl Into<String>, config: &ConnectionConfig) -> BinaryConnection
    where
        IO: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (read, write) = tokio::io::split(io);
        let frames = FrameReader::new(read, FrameCodec::new(config.max_frame_size));
        BinaryConnection::from_parts(frames, write, peer.into(), config)
    }

    fn from_parts<R, W>(
        frames: FrameReader<R, FrameCodec>,
        write: W,
        peer: String,
        config: &ConnectionConfig,
    ) -> BinaryConnection
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let codec = frames.decoder().clone();
        let pending = Pending::new(peer.clone());
        let (queue, outbound) = mpsc::channel(config.write_queue.max(1));

        let span = tracing::debug_span!("rpc.connection", peer = %peer);
        let heartbeat = config.heartbeat_interval.map(|interval| (interval, heartbeat_request as fn() -> Frame));
        spawn_write_loop(write, codec.clone(), outbound, heartbeat, pending.clone(), span.clone());
        let streams = Arc::new(ClientStreams { open: DashMap::new(), control: queue.downgrade() });
        let reader = read_loop(frames, pending.clone(), streams.clone(), config.heartbeat_interval);
        tokio::spawn(reader.instrument(span));
        BinaryConnection { queue, pending, streams, next_id: Arc::new(AtomicU64::new(STREAM_ID_BASE)), codec }
    }
}

impl ProtocolConnection for BinaryConnection {
    const PROTOCOL: Protocol = Protocol::Binary;
    const HANDS_BACK_UNSENT: bool = true;
    type ResponseFuture = BinaryResponseFuture;

    /// The provider's address.
    fn peer(&self) -> &str {
        &self.pending.peer
    }

    /// Closed for good (peer gone, protocol error, dead peer). A connection whose provider is
    /// shutting down is not closed yet but refuses new calls.
    fn is_closed(&self) -> bool {
        self.pending.is_closed()
    }

    /// Whether a new call would be sent (neither closed nor told to go away).
    fn is_ready(&self) -> bool {
        self.pending.refuse_new_calls().is_none()
    }

    /// Sends `request` and waits for its reply until the request's deadline.
    ///
    /// The checks, the frame and the pending slot are done before the returned future is
    /// first polled, and the frame is queued with `try_send`; the future itself only waits for
    /// the reply. That keeps it small — callers move it by value, and a large one showed up as
    /// memmove in the client's profile.
    ///
    /// Errors raised before the request was handed to the writer are marked
    /// [`Status::not_sent`], so the cluster client knows a retry cannot run it twice; the
    /// future then also hands the request's metadata back (see
    /// [`take_unsent`](BinaryResponseFuture::take_unsent)).
    fn call(&self, request: Request) -> BinaryResponseFuture {
        self.start(request).unwrap_or_else(|(status, unsent)| BinaryResponseFuture::unsent(status, unsent))
    }

    /// Calls in flight on this connection (sent or queued, not yet answered).
    fn in_flight(&self) -> usize {
        self.pending.in_flight()
    }

    /// Resolves once the connection is closed for good.
    fn closed(&self) -> impl Future<Output = ()> + Send {
        self.pending.closed.cancelled()
    }

    fn call_streaming(&self, request: Request, outbound: MessageStream) -> BoxFuture<Result<MessageStream, Status>> {
        Box::pin(std::future::ready(self.open_stream(request, outbound)))
    }

    fn take_unsent(reply: Pin<&mut BinaryResponseFuture>) -> Option<Returned> {
        reply.take_unsent()
    }
}

impl BinaryConnection {
    /// Opens a stream: an opening frame with the call's metadata, then `outbound`'s messages
    /// (each within the window the provider grants), then an end frame. Replies arrive on
    /// the returned stream, which ends with the provider's status; dropping it cancels the
    /// call at the provider.
    fn open_stream(&self, request: Request, outbound: MessageStream) -> Result<MessageStream, Status> {
        if let Some(refusal) = self.pending.refuse_new_calls() {
            return Err(refusal.not_sent());
        }
        let deadline = request.deadline();
        if deadline.is_some_and(|d| d <= Instant::now()) {
            return Err(Status::deadline_exceeded("deadline passed before the stream opened").not_sent());
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let serialization = request.serialization as u8;
        let remaining = request.remaining();
        let mut open = self.request_frame(id, request, remaining).map_err(|(status, _)| status.not_sent())?;
        open.flags = Flags::REQUEST | Flags::STREAM;
        let (sender, receiver) = stream::inbox();
        let credit = Arc::new(Semaphore::new(stream::STREAM_WINDOW as usize));
        let stop_sending = CancellationToken::new();
        let entry = ClientStream { inbox: sender.clone(), credit: credit.clone(), stop_sending: stop_sending.clone() };
        self.streams.open.insert(id, entry);
        if self.queue.try_send(open).is_err() {
            self.streams.open.remove(&id);
            return Err(Status::unavailable(format!(
                "stream to {} not opened: write queue full or closed",
                self.peer()
            ))
            .not_sent());
        }
        let message = move |body| Frame::stream_message(id, true, serialization, body);
        let local = sender.clone();
        let end = move |result: Result<(), Status>| match result {
            Ok(()) => Frame::stream_end(id, true, serialization, 0, Bytes::new()),
            // The caller's own stream failed (a message did not serialize, or is too large):
            // the caller hears why, and the provider is told to stop.
            Err(status) => {
                let _ = local.try_send(Err(status));
                Frame::event(id, EventKind::Cancel, false)
            }
        };
        let max_message = self.codec.max_frame_size().saturating_sub(rpc_codec::HEADER_LEN);
        let pump = stream::pump(outbound, max_message, self.queue.clone(), credit, stop_sending.clone(), message, end);
        tokio::spawn(pump);
        let streams = self.streams.clone();
        let on_drop = Box::new(move || {
            stop_sending.cancel();
            streams.open.remove(&id);
        });
        Ok(Box::pin(InboundMessages::new(receiver, self.queue.clone(), id, deadline, on_drop)))
    }

    /// The call's future, or why it was not sent with the metadata handed back.
    fn start(&self, request: Request) -> Result<BinaryResponseFuture, Unsent> {
        if let Some(refusal) = self.pending.refuse_new_calls() {
            return Err((refusal, Some(Box::new(request.into_returned()))));
        }
        let deadline = request.deadline();
        // One clock read serves the check and the time left that travels to the provider.
        let remaining = match deadline {
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(remaining) if !remaining.is_zero() => Some(remaining),
                _ => {
                    let late = Status::deadline_exceeded("deadline passed before the call was sent");
                    return Err((late, Some(Box::new(request.into_returned()))));
                }
            },
            None => None,
        };
        if request.oneway {
            let frame = self.request_frame(self.next_id.fetch_add(1, Ordering::Relaxed), request, remaining)?;
            return Ok(match self.try_enqueue(frame, deadline)? {
                None => BinaryResponseFuture::done(Ok(Response::default())),
                Some(queued) => BinaryResponseFuture::Sending { queued, then: None },
            });
        }
        let slot = match self.pending.insert() {
            Ok(slot) => slot,
            Err(status) => return Err((status, Some(Box::new(request.into_returned())))),
        };
        let frame = self.request_frame(slot.id(), request, remaining)?;
        Ok(match self.try_enqueue(frame, deadline)? {
            None => BinaryResponseFuture::waiting(slot, deadline),
            Some(queued) => BinaryResponseFuture::Sending { queued, then: Some((slot, deadline)) },
        })
    }

    /// Queues `frame` if there is room now; otherwise returns the (boxed) wait for room.
    fn try_enqueue(&self, frame: Frame, deadline: Option<Instant>) -> Result<Option<Queued>, Unsent> {
        match self.queue.try_send(frame) {
            Ok(()) => Ok(None),
            Err(mpsc::error::TrySendError::Closed(frame)) => Err((self.pending.closed_status(), returned(frame))),
            Err(mpsc::error::TrySendError::Full(frame)) => {
                let (queue, pending) = (self.queue.clone(), self.pending.clone());
                Ok(Some(Box::pin(async move {
                    let send = queue.send(frame);
                    let sent = match deadline {
                        Some(deadline) => tokio::time::timeout_at(deadline.into(), send).await.map_err(|_| {
                            let late = "deadline passed while waiting to send (write queue full)";
                            (Status::deadline_exceeded(late), None)
                        })?,
                        None => send.await,
                    };
                    sent.map_err(|unsent| (pending.closed_status(), returned(unsent.0)))
                })))
            }
        }
    }

    fn request_frame(&self, id: u64, request: Request, remaining: Option<Duration>) -> Result<Frame, Unsent> {
        let mut metadata = request.metadata;
        metadata.timeout = remaining;
        let flags = if request.oneway { Flags::REQUEST | Flags::ONEWAY } else { Flags::REQUEST };
        let frame = Frame {
            flags,
            serialization: request.serialization as u8,
            status: 0,
            request_id: id,
            metadata,
            body: request.body,
        };
        match self.codec.encoded_len(&frame) {
            Ok(_) => Ok(frame),
            Err(e) => Err((Status::resource_exhausted(format!("request not sent: {e}")), returned(frame))),
        }
    }
}

impl std::fmt::Debug for BinaryConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinaryConnection").field("peer", &self.pending.peer).field("closed", &self.is_closed()).finish()
    }
}

/// A wait for room in a full write queue.
type Queued = Pin<Box<dyn Future<Output = Result<(), Unsent>> + Send>>;

/// The heartbeat a quiet connection sends.
fn heartbeat_request() -> Frame {
    Frame::event(0, EventKind::Heartbeat, true)
}

/// Why a request was not sent, and its metadata and body when they are still at hand: with
/// what the caller kept, the whole request again, for a retry elsewhere.
type Unsent = (Status, Option<Box<Returned>>);

/// A request frame's metadata and body, handed back.
fn returned(frame: Frame) -> Option<Box<Returned>> {
    Some(Box::new(Returned { metadata: frame.metadata, body: frame.body }))
}

pin_project! {
    /// The reply to one binary-protocol call. A named type rather than a boxed future, so a
    /// `Channel` call allocates nothing for it.
    #[project = ResponseProj]
    pub enum BinaryResponseFuture {
        /// `unsent`: the metadata and body of a request that was not sent (see `take_unsent`).
        Done { result: Option<Result<Response, Status>>, unsent: Option<Box<Returned>> },
        /// Waiting for room in a full write queue; then, unless oneway, for the reply.
        Sending { queued: Queued, then: Option<(PendingCall<Frame>, Option<Instant>)> },
        Waiting { slot: PendingCall<Frame> },
        WaitingUntil { slot: PendingCall<Frame>, #[pin] deadline: tokio::time::Sleep },
    }
}

impl BinaryResponseFuture {
    fn done(result: Result<Response, Status>) -> BinaryResponseFuture {
        BinaryResponseFuture::Done { result: Some(result), unsent: None }
    }

    /// Fails with `status` (marked not sent), holding the request's metadata and body if given.
    fn unsent(status: Status, returned: Option<Box<Returned>>) -> BinaryResponseFuture {
        BinaryResponseFuture::Done { result: Some(Err(status.not_sent())), unsent: returned }
    }

    /// After the future failed with a not-sent error: the request's metadata and body, if
    /// the transport still had them (refused or failed locally before the write) or the
    /// provider handed them back (refused unrun while going away). With the few words the
    /// caller kept, a cluster call rebuilds the request to retry it elsewhere without having
    /// copied it up front.
    pub(crate) fn take_unsent(self: Pin<&mut Self>) -> Option<Returned> {
        match self.project() {
            ResponseProj::Done { unsent, .. } => unsent.take().map(|returned| *returned),
            _ => None,
        }
    }

    fn waiting(slot: PendingCall<Frame>, deadline: Option<Instant>) -> BinaryResponseFuture {
        match deadline {
            Some(deadline) => {
                BinaryResponseFuture::WaitingUntil { slot, deadline: tokio::time::sleep_until(deadline.into()) }
            }
            None => BinaryResponseFuture::Waiting { slot },
        }
    }
}

impl Future for BinaryResponseFuture {
    type Output = Result<Response, Status>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match self.as_mut().project() {
                ResponseProj::Done { result, .. } => {
                    return Poll::Ready(result.take().unwrap_or_else(|| Err(Status::internal("reply polled twice"))));
                }
                ResponseProj::Sending { queued, then } => {
                    let sent = ready!(queued.as_mut().poll(cx));
                    let next = match (sent, then.take()) {
                        (Err((status, unsent)), _) => BinaryResponseFuture::unsent(status, unsent),
                        (Ok(()), None) => BinaryResponseFuture::done(Ok(Response::default())),
                        (Ok(()), Some((slot, deadline))) => BinaryResponseFuture::waiting(slot, deadline),
                    };
                    self.set(next);
                }
                ResponseProj::Waiting { slot } => {
                    let reply = ready!(slot.poll_reply(cx));
                    return self.settle(reply);
                }
                ResponseProj::WaitingUntil { slot, deadline } => {
                    if let Poll::Ready(reply) = slot.poll_reply(cx) {
                        return self.settle(reply);
                    }
                    ready!(deadline.poll(cx));
                    let status =
                        Status::deadline_exceeded(format!("no reply from {} before the deadline", slot.pending.peer));
                    return Poll::Ready(Err(status));
                }
            }
        }
    }
}

impl BinaryResponseFuture {
    /// The call's result from its reply; a provider's refusal to run it keeps the request the
    /// provider handed back, for [`take_unsent`](Self::take_unsent).
    fn settle(mut self: Pin<&mut Self>, reply: Result<Frame, Status>) -> Poll<Result<Response, Status>> {
        match reply.map(response_from_frame) {
            Ok(Ok(response)) => Poll::Ready(Ok(response)),
            Ok(Err((status, Some(echoed)))) => {
                self.set(BinaryResponseFuture::Done { result: None, unsent: Some(echoed) });
                Poll::Ready(Err(status))
            }
            Ok(Err((status, None))) | Err(status) => Poll::Ready(Err(status)),
        }
    }
}

/// A reply frame as the caller's result: status 0 is success, any other status an error whose
/// body is the message. A reply saying the request was not run (`rpc.not-run`, whose value is
/// the message) is a not-sent error; the provider hands the request back in it (its metadata
/// and body as the reply's).
fn response_from_frame(mut frame: Frame) -> Result<Response, Unsent> {
    if frame.status != Code::Ok as u8 {
        let code = Code::from_u8(frame.status);
        let Some(why) = frame.metadata.attachments.remove(super::NOT_RUN_ATTACHMENT) else {
            return Err((Status::new(code, String::from_utf8_lossy(&frame.body)), None));
        };
        frame.metadata.timeout = None;
        let returned = if frame.metadata.service.is_empty() { None } else { returned(frame) };
        return Err((Status::new(code, why.to_string()).not_sent(), returned));
    }
    let serialization = SerializationId::try_from(frame.serialization)
        .map_err(|e| (Status::internal(format!("reply carries an unusable serialization: {e}")), None))?;
    let mut response = Response::new(serialization, frame.body);
    response.attachments = frame.metadata.attachments;
    Ok(response)
}

/// Reads replies and events until the stream ends, then fails whatever still waits. With
/// `heartbeat`, a peer silent for three intervals (our heartbeats unanswered) is presumed dead.
async fn read_loop<R: AsyncRead + Unpin>(
    mut frames: FrameReader<R, FrameCodec>,
    pending: Arc<Pending<Frame>>,
    streams: Arc<ClientStreams>,
    heartbeat: Option<Duration>,
) {
    let period = heartbeat.unwrap_or(Duration::MAX / 4);
    let silence = IdleTimer::after_periods(period, 3);
    tokio::pin!(silence);
    let reason = loop {
        let next = tokio::select! {
            biased;
            next = frames.next() => next,
            () = silence.as_mut().expired(), if heartbeat.is_some() => {
                break format!("no frame for {:?} (heartbeats unanswered): peer presumed dead", period * 3);
            }
        };
        silence.as_mut().activity();
        match next {
            None => break "closed by the provider".to_string(),
            Some(Err(rpc_codec::CodecError::Io(e))) => break format!("connection lost: {e}"),
            Some(Err(e)) => {
                tracing::warn!(peer = %pending.peer, error = %e, "closing connection on a protocol error");
                break format!("protocol error: {e}");
            }
            Some(Ok(Inbound::Frame(frame))) => {
                if let Some(kind) = frame.event_kind() {
                    match kind {
                        EventKind::GoAway => pending.go_away(),
                        EventKind::Window(_) | EventKind::Cancel => streams.on_event(frame.request_id, kind),
                        _ => {}
                    }
                } else if frame.is_stream() {
                    streams.on_frame(frame);
                } else if !frame.flags.is_request() {
                    pending.complete(frame.request_id, Ok(frame));
                }
            }
            Some(Ok(Inbound::Rejected { header, reason })) => {
                let status = match reason {
                    RejectReason::TooLarge { .. } => Status::resource_exhausted(format!("reply refused: {reason}")),
                    RejectReason::BadMetadata(_) => Status::internal(format!("reply unreadable: {reason}")),
                };
                if header.flags.contains(Flags::STREAM) {
                    streams.fail(header.request_id, status);
                } else {
                    pending.complete(header.request_id, Err(status));
                }
            }
        }
    };
    tracing::debug!(peer = %pending.peer, %reason, "connection closed");
    streams.close(&pending.peer, &reason);
    pending.close(reason);
}

/// The client's open streams on one connection, by request id.
struct ClientStreams {
    open: DashMap<u64, ClientStream>,
    /// The connection's write queue, for cancel events; weak, so the reader holding this
    /// does not keep the write half open once the connection's users are gone.
    control: mpsc::WeakSender<Frame>,
}

struct ClientStream {
    inbox: stream::Inbox,
    /// Window credit for our messages.
    credit: Arc<Semaphore>,
    /// Stops our side (the provider cancelled, or the caller dropped the replies).
    stop_sending: CancellationToken,
}

impl ClientStreams {
    /// A reply message or the provider's end (status 0, or an error whose body is the message).
    fn on_frame(&self, frame: Frame) {
        let id = frame.request_id;
        if !frame.is_stream_end() {
            let overrun = match self.open.get(&id) {
                Some(stream) => stream::deliver(&stream.inbox, Ok(frame.body)).err(),
                None => None,
            };
            if let Some(status) = overrun {
                if let Some((_, stream)) = self.open.remove(&id) {
                    let _ = stream.inbox.try_send(Err(status));
                    stream.stop_sending.cancel();
                }
            }
            return;
        }
        if let Some((_, stream)) = self.open.remove(&id) {
            if frame.status != Code::Ok as u8 {
                let status = Status::new(Code::from_u8(frame.status), String::from_utf8_lossy(&frame.body));
                let _ = stream.inbox.try_send(Err(status));
            }
            stream.stop_sending.cancel();
        }
    }

    fn on_event(&self, id: u64, kind: EventKind) {
        let Some(stream) = self.open.get(&id) else { return };
        match kind {
            EventKind::Window(credit) => stream.credit.add_permits(credit.min(stream::STREAM_WINDOW) as usize),
            // The provider reads no more of ours; its replies may still come.
            EventKind::Cancel => stream.stop_sending.cancel(),
            _ => {}
        }
    }

    /// A reply frame of stream `id` could not be read: the stream ends with `status`, and the
    /// provider is told to stop.
    fn fail(&self, id: u64, status: Status) {
        if let Some((_, stream)) = self.open.remove(&id) {
            let _ = stream.inbox.try_send(Err(status));
            stream.stop_sending.cancel();
            if let Some(control) = self.control.upgrade() {
                let _ = control.try_send(Frame::event(id, EventKind::Cancel, false));
            }
        }
    }

    /// The connection is gone: every open stream ends with `Unavailable`.
    fn close(&self, peer: &str, reason: &str) {
        for entry in self.open.iter() {
            let status = Status::unavailable(format!("connection to {peer} closed mid-stream: {reason}"));
            let _ = entry.inbox.try_send(Err(status));
            entry.stop_sending.cancel();
        }
        self.open.clear();
    }
}
