//! The consumer side of dubbo2: one connection to a Dubbo provider (Java's, Go's, or ours),
//! many calls in flight matched by request id, heartbeats both ways, and the provider's
//! readonly event taken as "send no more".

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use rpc_codec::dubbo::{
    self, DubboCodec, DubboFrame, DubboHeader, DubboInbound, FLAG_EVENT, FLAG_REQUEST, FLAG_TWOWAY,
    HESSIAN2_SERIALIZATION,
};
use rpc_codec::serialization::transcode_arguments;
use rpc_codec::{CodecError, SerializationId};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_util::codec::Encoder;
use tracing::Instrument;

use super::call::{heartbeat_reply, response_from_reply};
use crate::protocol::mux::{spawn_write_loop, FrameReader, Pending, STREAM_ID_BASE};
use crate::protocol::IdleTimer;
use crate::protocol::{Connected, ConnectionConfig, ProtocolConnection};
use crate::{BoxFuture, MessageStream, Protocol, Request, Response, Status};

/// A client's dubbo2 connection to one provider. Cheap to clone; clones share the socket.
#[derive(Clone)]
pub(crate) struct DubboConnection {
    queue: mpsc::Sender<DubboFrame>,
    pending: Arc<Pending<DubboFrame>>,
    oneway_ids: Arc<AtomicU64>,
    payload: usize,
    /// The encoded heads of the calls made here, one per method and version.
    templates: Arc<CallTemplates>,
}

/// A connection's [`dubbo::CallTemplate`]s by (service, method, version): a consumer calls a
/// few methods many times, and each call's head and addressing attachments are then copied,
/// not encoded again. Bounded: when full it starts over.
#[derive(Default)]
struct CallTemplates(std::sync::Mutex<Vec<KnownCall>>);

/// A call's service, method and version, and its template.
struct KnownCall {
    path: String,
    method: String,
    version: String,
    template: Arc<dubbo::CallTemplate>,
}

/// Templates a connection keeps at most.
const TEMPLATES_MAX: usize = 64;

impl CallTemplates {
    fn get(&self, call: dubbo::CallParts<'_>) -> Arc<dubbo::CallTemplate> {
        let version = call.version.unwrap_or_default();
        let mut templates = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let known = templates.iter().find(|known| {
            (known.path.as_str(), known.method.as_str(), known.version.as_str()) == (call.path, call.method, version)
        });
        if let Some(known) = known {
            return known.template.clone();
        }
        let addressing = [("path", call.path), ("interface", call.path), ("version", version)];
        let template = Arc::new(dubbo::CallTemplate::new(dubbo::DUBBO_VERSION, call, addressing));
        if templates.len() >= TEMPLATES_MAX {
            templates.clear();
        }
        templates.push(KnownCall {
            path: call.path.to_string(),
            method: call.method.to_string(),
            version: version.to_string(),
            template: template.clone(),
        });
        template
    }
}

impl DubboConnection {
    /// A connection over a TCP stream just opened to `peer`, once the provider has answered a
    /// heartbeat (see the binary protocol's handshake for why).
    pub(crate) async fn handshake<IO: Connected>(
        stream: IO,
        peer: String,
        config: &ConnectionConfig,
    ) -> Result<DubboConnection, Status> {
        let (read, mut write) = stream.split();
        let mut codec = DubboCodec::new(config.max_frame_size);
        let mut hello = BytesMut::new();
        codec
            .encode(heartbeat_request(), &mut hello)
            .map_err(|e| Status::internal(format!("encode the opening heartbeat: {e}")))?;
        write.write_all(&hello).await.map_err(|e| Status::unavailable(format!("write to {peer}: {e}")))?;
        let mut frames = FrameReader::new(read, codec);
        loop {
            let frame = match frames.next().await {
                Some(Ok(DubboInbound::Frame(frame))) => frame,
                Some(Ok(DubboInbound::TooLarge { .. })) => {
                    return Err(Status::unavailable(format!("{peer} opened with a frame over the payload limit")))
                }
                Some(Err(e)) => return Err(Status::unavailable(format!("{peer} did not answer the handshake: {e}"))),
                None => return Err(Status::unavailable(format!("{peer} closed the connection on opening"))),
            };
            let header = frame.header;
            if header.is_event() && !header.is_request() {
                break;
            }
            if header.is_event() && is_readonly(&frame.body) {
                return Err(Status::unavailable(format!("{peer} is shutting down")));
            }
        }
        Ok(DubboConnection::from_parts(frames, write, peer, config))
    }

    fn from_parts<R, W>(
        frames: FrameReader<R, DubboCodec>,
        write: W,
        peer: String,
        config: &ConnectionConfig,
    ) -> DubboConnection
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let codec = frames.decoder().clone();
        let pending = Pending::new(peer.clone());
        let (queue, outbound) = mpsc::channel(config.write_queue.max(1));
        let span = tracing::debug_span!("rpc.dubbo.connection", peer = %peer);
        let heartbeat = config.heartbeat_interval.map(|interval| (interval, heartbeat_request as fn() -> DubboFrame));
        spawn_write_loop(write, codec.clone(), outbound, heartbeat, pending.clone(), span.clone());
        let reader = read_loop(frames, pending.clone(), queue.downgrade(), config.heartbeat_interval);
        tokio::spawn(reader.instrument(span));
        DubboConnection {
            queue,
            pending,
            oneway_ids: Arc::new(AtomicU64::new(STREAM_ID_BASE)),
            payload: codec.payload(),
            templates: Arc::default(),
        }
    }

    /// The request frame for a call, or why it cannot be sent. Arguments in msgpack or JSON
    /// are re-encoded as Hessian2, the one serialization dubbo2 providers read.
    fn request_frame(&self, request: Request, id: i64, deadline: Option<Instant>) -> Result<DubboFrame, Status> {
        let method = request.method_descriptor();
        let parameter_types = match method {
            Some(method) => method.java_parameters,
            None if request.body.is_empty() => "",
            None => {
                return Err(Status::invalid_argument(
                    "dubbo:// needs the Java parameter types of the method: call through a generated client",
                ))
            }
        };
        let arguments = match request.serialization {
            SerializationId::Hessian2 => request.body.clone(),
            SerializationId::Protobuf => {
                return Err(Status::failed_precondition(
                    "dubbo:// carries Hessian2 and a protobuf body cannot be re-encoded: call this provider over Triple (gRPC)",
                ))
            }
            other => {
                let arity = method.map_or(0, |m| m.arguments.len());
                transcode_arguments(other, SerializationId::Hessian2, &request.body, arity)
                    .map_err(|e| Status::invalid_argument(format!("arguments not re-encoded as Hessian2: {e}")))?
                    .freeze()
            }
        };
        let version = match request.version() {
            "" => "0.0.0",
            version => version,
        };
        let path = request.service();
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()).as_millis().max(1).to_string());
        let group = Some(request.group()).filter(|g| !g.is_empty());
        let call = dubbo::CallParts { path, version: Some(version), method: request.method(), parameter_types };
        // The template writes the addressing attachments (`path`, `interface`, `version`).
        let own = group.map(|g| ("group", g)).into_iter().chain(timeout.as_deref().map(|ms| ("timeout", ms)));
        let parts = self.templates.get(call).parts(arguments, own.chain(request.attachments().iter()));
        let flags = if request.oneway { FLAG_REQUEST } else { FLAG_REQUEST | FLAG_TWOWAY };
        let header = DubboHeader { flags: flags | HESSIAN2_SERIALIZATION, status: 0, id, body_len: 0 };
        let frame = DubboFrame::from_parts(header, parts);
        if frame.body_len() > self.payload {
            return Err(Status::resource_exhausted(format!(
                "request not sent: Data length too large: {}, max payload: {}",
                frame.body_len(),
                self.payload
            )));
        }
        Ok(frame)
    }
}

/// dubbo2 hands nothing back of a request it did not send: a cluster keeps a copy to retry.
impl ProtocolConnection for DubboConnection {
    const PROTOCOL: Protocol = Protocol::Dubbo;
    const HANDS_BACK_UNSENT: bool = false;
    type ResponseFuture = BoxFuture<Result<Response, Status>>;

    fn peer(&self) -> &str {
        &self.pending.peer
    }

    fn is_closed(&self) -> bool {
        self.pending.is_closed()
    }

    fn is_ready(&self) -> bool {
        self.pending.refuse_new_calls().is_none()
    }

    fn in_flight(&self) -> usize {
        self.pending.in_flight()
    }

    fn closed(&self) -> impl std::future::Future<Output = ()> + Send {
        self.pending.closed.cancelled()
    }

    /// Sends `request` and waits for its reply until the request's deadline. The checks, the
    /// frame and the pending slot are made before the future is; the frame is queued with
    /// `try_send` (the future waits for room only if the queue is full), so the future holds
    /// little but the slot.
    fn call(&self, request: Request) -> Self::ResponseFuture {
        match self.start(request) {
            Ok(reply) => reply,
            Err(status) => Box::pin(std::future::ready(Err(status.not_sent()))),
        }
    }

    fn call_streaming(&self, _: Request, _: MessageStream) -> BoxFuture<Result<MessageStream, Status>> {
        let refusal = Status::unimplemented("dubbo:// has no streams; stream over Triple (gRPC) instead").not_sent();
        Box::pin(std::future::ready(Err(refusal)))
    }
}

impl DubboConnection {
    /// The call's future, or why it was not sent.
    fn start(&self, request: Request) -> Result<BoxFuture<Result<Response, Status>>, Status> {
        if let Some(refusal) = self.pending.refuse_new_calls() {
            return Err(refusal);
        }
        let deadline = request.deadline();
        if deadline.is_some_and(|d| d <= Instant::now()) {
            return Err(Status::deadline_exceeded("deadline passed before the call was sent"));
        }
        let serialization = request.serialization;
        if request.oneway {
            let id = self.oneway_ids.fetch_add(1, Ordering::Relaxed) as i64;
            let frame = self.request_frame(request, id, deadline)?;
            let waiting = self.enqueue(frame)?;
            return Ok(Box::pin(async move {
                if let Some(waiting) = waiting {
                    waiting.await?;
                }
                Ok(Response::default())
            }));
        }
        let mut slot = self.pending.insert()?;
        let frame = self.request_frame(request, slot.id() as i64, deadline)?;
        let waiting = self.enqueue(frame)?;
        Ok(Box::pin(async move {
            let exchange = async {
                if let Some(waiting) = waiting {
                    waiting.await?;
                }
                let reply = std::future::poll_fn(|cx| slot.poll_reply(cx)).await?;
                response_from_reply(reply, serialization)
            };
            match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline.into(), exchange).await.unwrap_or_else(|_| {
                    Err(Status::deadline_exceeded("no reply from the dubbo provider before the deadline"))
                }),
                None => exchange.await,
            }
        }))
    }

    /// Queues `frame` now if there is room, else returns the wait for room.
    fn enqueue(&self, frame: DubboFrame) -> Result<Option<BoxFuture<Result<(), Status>>>, Status> {
        match self.queue.try_send(frame) {
            Ok(()) => Ok(None),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(self.pending.closed_status()),
            Err(mpsc::error::TrySendError::Full(frame)) => {
                let (queue, pending) = (self.queue.clone(), self.pending.clone());
                Ok(Some(Box::pin(
                    async move { queue.send(frame).await.map_err(|_| pending.closed_status().not_sent()) },
                )))
            }
        }
    }
}

impl std::fmt::Debug for DubboConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DubboConnection").field("peer", &self.pending.peer).field("closed", &self.is_closed()).finish()
    }
}

/// A two-way heartbeat: an event request with a null body.
fn heartbeat_request() -> DubboFrame {
    let mut body = BytesMut::new();
    dubbo::encode_event(None, &mut body);
    let flags = FLAG_REQUEST | FLAG_TWOWAY | FLAG_EVENT | HESSIAN2_SERIALIZATION;
    DubboFrame::new(DubboHeader { flags, status: 0, id: 0, body_len: 0 }, body.freeze())
}

/// Whether an event body is Dubbo's readonly event, the string `"R"`.
fn is_readonly(body: &Bytes) -> bool {
    dubbo::decode_error_message(body).is_ok_and(|text| text == "R")
}

/// Reads replies and events until the stream ends, then fails whatever still waits.
async fn read_loop<R: AsyncRead + Unpin>(
    mut frames: FrameReader<R, DubboCodec>,
    pending: Arc<Pending<DubboFrame>>,
    control: mpsc::WeakSender<DubboFrame>,
    heartbeat: Option<std::time::Duration>,
) {
    let period = heartbeat.unwrap_or(std::time::Duration::MAX / 4);
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
            Some(Err(CodecError::Io(e))) => break format!("connection lost: {e}"),
            Some(Err(e)) => {
                tracing::warn!(peer = %pending.peer, error = %e, "closing connection on a protocol error");
                break format!("protocol error: {e}");
            }
            Some(Ok(DubboInbound::Frame(frame))) => {
                let header = frame.header;
                if header.is_event() {
                    if header.is_request() && is_readonly(&frame.body) {
                        pending.go_away();
                    } else if header.is_twoway() {
                        // The provider's own heartbeat.
                        if let Some(control) = control.upgrade() {
                            let _ = control.try_send(heartbeat_reply(header.id, header.serialization()));
                        }
                    }
                } else if !header.is_request() {
                    pending.complete(header.id as u64, Ok(frame));
                }
            }
            Some(Ok(DubboInbound::TooLarge { header, payload })) => {
                let status = Status::resource_exhausted(format!(
                    "reply refused: Data length too large: {}, max payload: {payload}",
                    header.body_len
                ));
                pending.complete(header.id as u64, Err(status));
            }
        }
    };
    tracing::debug!(peer = %pending.peer, %reason, "connection closed");
    pending.close(reason);
}
