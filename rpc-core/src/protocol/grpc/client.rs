//! The consumer side of gRPC over HTTP/2: one HTTP/2 connection (h2c, prior knowledge) to a
//! provider — an `rpc` server or any gRPC server — with calls multiplexed as streams.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE, TE};
use http::{HeaderMap, Method, StatusCode};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rpc_codec::SerializationId;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::body::{GrpcBody, MessageBody};
use super::compression::{self, Compressor, Encoding};
use super::headers::{self, ContentType};
use super::message;
use super::reader::MessageReader;
use super::wrapper;
use crate::protocol::{read_chunks, BodyError, Connected, ConnectionConfig, ProtocolConnection};
use crate::{BoxFuture, Code, MessageStream, Protocol, Request, Response, Status};

/// A client's HTTP/2 connection to one provider. Cheap to clone; clones share the connection.
#[derive(Clone)]
pub(crate) struct GrpcConnection {
    sender: SendRequest<GrpcBody>,
    shared: Arc<Shared>,
}

struct Shared {
    peer: String,
    /// Cancelled when the connection task ends (peer gone, GOAWAY and drained, dead peer).
    closed: CancellationToken,
    in_flight: AtomicUsize,
    max_message: usize,
    /// Requests' compression, if configured.
    compressor: Option<Compressor>,
}

/// The largest HTTP/2 frame this client accepts (`SETTINGS_MAX_FRAME_SIZE`): a reply message
/// up to this long comes in one DATA frame, which is taken as the message without joining
/// pieces (at h2's default of 16 KiB a 64 KiB reply came in five and was copied together). A
/// client talks to providers it chose, so the buffer a large frame header reserves is not a
/// lever for strangers, as it would be on a server.
const REPLY_MAX_FRAME: u32 = 1 << 20;

impl GrpcConnection {
    /// Performs the HTTP/2 handshake on `stream` and starts the task that drives it. With a
    /// heartbeat interval, HTTP/2 PINGs detect a dead peer (no answer within three intervals).
    pub(crate) async fn handshake<IO: Connected>(
        stream: IO,
        peer: String,
        config: &ConnectionConfig,
    ) -> Result<GrpcConnection, Status> {
        let mut builder = hyper::client::conn::http2::Builder::new(TokioExecutor::new());
        builder.timer(TokioTimer::new()).max_frame_size(REPLY_MAX_FRAME);
        if let Some(interval) = config.heartbeat_interval {
            builder.keep_alive_interval(interval).keep_alive_timeout(interval * 3).keep_alive_while_idle(true);
        }
        let (sender, connection) = builder
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|e| Status::unavailable(format!("HTTP/2 handshake with {peer}: {e}")))?;
        let closed = CancellationToken::new();
        let span = tracing::debug_span!("rpc.grpc.connection", peer = %peer);
        let done = closed.clone();
        tokio::spawn(
            async move {
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, "HTTP/2 connection ended");
                }
                done.cancel();
            }
            .instrument(span),
        );
        let compressor = config
            .grpc_compression
            .map(|compression| Compressor { compression, threshold: config.grpc_compression_threshold });
        let shared = Arc::new(Shared {
            peer,
            closed,
            in_flight: AtomicUsize::new(0),
            max_message: config.max_frame_size,
            compressor,
        });
        Ok(GrpcConnection { sender, shared })
    }
}

/// gRPC does not hand back an unsent request: its replies are boxed futures that keep
/// nothing of it.
impl ProtocolConnection for GrpcConnection {
    const PROTOCOL: Protocol = Protocol::Grpc;
    const HANDS_BACK_UNSENT: bool = false;
    type ResponseFuture = BoxFuture<Result<Response, Status>>;

    fn peer(&self) -> &str {
        &self.shared.peer
    }

    fn is_closed(&self) -> bool {
        self.shared.closed.is_cancelled() || self.sender.is_closed()
    }

    /// Neither closed nor told to go away (hyper stops accepting streams after GOAWAY).
    fn is_ready(&self) -> bool {
        !self.is_closed() && self.sender.is_ready()
    }

    fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::Relaxed)
    }

    fn closed(&self) -> impl std::future::Future<Output = ()> + Send {
        self.shared.closed.cancelled()
    }

    /// Sends `request` as one gRPC unary call and waits for the reply until its deadline.
    fn call(&self, request: Request) -> Self::ResponseFuture {
        let prepared = self.prepare(request, true);
        let (mut sender, shared) = (self.sender.clone(), self.shared.clone());
        Box::pin(async move {
            let Prepared { request: http_request, serialization, deadline, wrapped } = prepared?;
            if !sender.is_ready() {
                return Err(Status::unavailable(format!("HTTP/2 connection to {} is closing", shared.peer)).not_sent());
            }
            shared.in_flight.fetch_add(1, Ordering::Relaxed);
            let _in_flight = InFlight(&shared.in_flight);
            let exchange = exchange(&mut sender, http_request, serialization, wrapped, &shared);
            match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline.into(), exchange).await.unwrap_or_else(|_| {
                    Err(Status::deadline_exceeded(format!("no reply from {} before the deadline", shared.peer)))
                }),
                None => exchange.await,
            }
        })
    }

    /// Opens a streaming call: `outbound` becomes the request body, sent as the peer's
    /// flow-control window allows; once the reply headers arrive, their messages come back as
    /// a stream that ends with the trailers' status. Dropping that stream resets the call.
    fn call_streaming(&self, request: Request, outbound: MessageStream) -> BoxFuture<Result<MessageStream, Status>> {
        let prepared = self.prepare(request, false);
        let (mut sender, shared) = (self.sender.clone(), self.shared.clone());
        Box::pin(async move {
            let Prepared { request: mut http_request, deadline, .. } = prepared?;
            *http_request.body_mut() = GrpcBody::Stream(MessageBody::new(outbound, false, None, shared.compressor));
            if !sender.is_ready() {
                return Err(Status::unavailable(format!("HTTP/2 connection to {} is closing", shared.peer)).not_sent());
            }
            let send = sender.send_request(http_request);
            let reply = match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline.into(), send).await.map_err(|_| {
                    Status::deadline_exceeded(format!("no reply headers from {} before the deadline", shared.peer))
                })?,
                None => send.await,
            }
            .map_err(|e| send_error(&shared, e))?;
            let (parts, body) = reply.into_parts();
            if let Some(status) = headers::status_from(&parts.headers) {
                status?;
                return Ok(Box::pin(futures_util::stream::empty()) as MessageStream);
            }
            if parts.status != StatusCode::OK {
                return Err(headers::status_from_http(parts.status));
            }
            let encoding = reply_encoding(&parts.headers)?;
            let reader = MessageReader::new(body, shared.max_message, true, "reply stream", deadline, encoding);
            Ok(Box::pin(reader) as MessageStream)
        })
    }
}

impl GrpcConnection {
    /// The HTTP/2 request for `request`; errors here are raised before anything was sent. A
    /// unary Hessian2 call goes as Java's consumer sends it, in Triple's wrapper.
    fn prepare(&self, request: Request, unary: bool) -> Result<Prepared, Status> {
        let deadline = request.deadline();
        let remaining = request.remaining();
        if remaining.is_some_and(|r| r.is_zero()) {
            return Err(Status::deadline_exceeded("deadline passed before the call was sent").not_sent());
        }
        if request.body.len() > self.shared.max_message {
            return Err(Status::resource_exhausted(format!(
                "request not sent: message of {} bytes over the limit of {}",
                request.body.len(),
                self.shared.max_message
            ))
            .not_sent());
        }
        let uri = format!("http://{}/{}/{}", self.shared.peer, request.service(), request.method());
        let wrapped = unary && request.serialization == SerializationId::Hessian2;
        let compressor = self.shared.compressor;
        let data = match wrapped {
            true => message::encode(&wrapper::wrap_call(&request).map_err(Status::not_sent)?, compressor),
            false => message::encode(&request.body, compressor),
        }
        .map_err(Status::not_sent)?;
        let mut http_request = http::Request::new(GrpcBody::unary(data, None));
        *http_request.method_mut() = Method::POST;
        *http_request.uri_mut() =
            uri.parse().map_err(|e| Status::invalid_argument(format!("bad call path {uri}: {e}")).not_sent())?;
        let headers = http_request.headers_mut();
        let content_type = match wrapped {
            // What Java sends in either of Triple's modes.
            true => HeaderValue::from_static("application/grpc+proto"),
            false => headers::content_type_value(request.serialization),
        };
        headers.insert(CONTENT_TYPE, content_type);
        headers.insert(TE, HeaderValue::from_static("trailers"));
        if let Some(compressor) = compressor {
            headers.insert(compression::GRPC_ENCODING, compression::header(compressor.compression));
            headers.insert(compression::GRPC_ACCEPT_ENCODING, compression::ACCEPTED);
        }
        if let Some(remaining) = remaining {
            if let Ok(value) = HeaderValue::from_str(&headers::format_timeout(remaining)) {
                headers.insert(headers::GRPC_TIMEOUT, value);
            }
        }
        for (name, value) in [(headers::SERVICE_VERSION, request.version()), (headers::SERVICE_GROUP, request.group())]
        {
            if let (false, Ok(value)) = (value.is_empty(), HeaderValue::from_str(value)) {
                headers.insert(name, value);
            }
        }
        headers::put_attachments(headers, request.attachments());
        Ok(Prepared { request: http_request, serialization: request.serialization, deadline, wrapped })
    }
}

/// An HTTP/2 request ready to send, and what reading its reply needs.
struct Prepared {
    request: http::Request<GrpcBody>,
    serialization: SerializationId,
    deadline: Option<Instant>,
    /// Sent in Triple's wrapper: the reply comes in one.
    wrapped: bool,
}

/// Decrements the in-flight count when the call ends, however it ends.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One request and its reply: headers (a trailers-only error ends here), the message, then
/// the trailers' status.
async fn exchange(
    sender: &mut SendRequest<GrpcBody>,
    request: http::Request<GrpcBody>,
    serialization: SerializationId,
    wrapped: bool,
    shared: &Shared,
) -> Result<Response, Status> {
    let reply = sender.send_request(request).await.map_err(|e| send_error(shared, e))?;
    let (parts, body) = reply.into_parts();
    if let Some(status) = headers::status_from(&parts.headers) {
        // Trailers-only: no message follows.
        status?;
        return Err(Status::internal(format!("{} answered OK without a reply message", shared.peer)));
    }
    if parts.status != StatusCode::OK {
        return Err(headers::status_from_http(parts.status));
    }
    let serialization = match headers::content_type(&parts.headers) {
        _ if wrapped => serialization,
        ContentType::Grpc(reply_serialization) => reply_serialization,
        // Some servers answer `application/grpc+proto` for any request; trust ours otherwise.
        _ => serialization,
    };
    // Java's provider sends a business exception as an OK reply marked so.
    let exception =
        parts.headers.get(headers::EXCEPTION_CODE).and_then(|v| v.to_str().ok()).filter(|v| *v != "0").is_some();
    let exception_status = parts
        .headers
        .get(headers::RPC_STATUS)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u8>().ok())
        .map(Code::from_u8)
        .filter(|code| *code != Code::Ok);
    let reading = message::Reading { encoding: reply_encoding(&parts.headers)?, limit: shared.max_message };
    let limit = shared.max_message.saturating_add(2 * message::PREFIX_LEN);
    // The call's deadline bounds the wait (it wraps this future); no timer of its own.
    let collected = read_chunks(body, limit, None, None).await.map_err(|e| match e {
        BodyError::TooLarge => {
            Status::resource_exhausted(format!("reply over the limit of {} bytes", shared.max_message))
        }
        BodyError::Broken(e) => Status::unavailable(format!("reply from {} broken off: {e}", shared.peer)),
        BodyError::Deadline | BodyError::Idle(_) => {
            Status::deadline_exceeded("deadline passed while the reply arrived")
        }
    })?;
    let trailers = collected.trailers.unwrap_or_default();
    match headers::status_from(&trailers) {
        Some(Ok(())) => {}
        Some(Err(status)) => return Err(status),
        None => return Err(Status::internal(format!("reply from {} ended without grpc-status", shared.peer))),
    }
    let mut body: Bytes =
        message::decode_unary_chunks(collected.chunks, "reply", reading).map_err(|s| Status::internal(s.message()))?;
    if wrapped {
        let data = wrapper::parse_response(&body).ok_or_else(|| {
            Status::internal(format!("{} answered a wrapped call without Triple's wrapper", shared.peer))
        })?;
        let data = data.unwrap_or_else(|| Bytes::from_static(b"N"));
        if exception {
            let thrown = rpc_codec::dubbo::decode_exception(&data)
                .map_err(|e| Status::internal(format!("an exception that does not decode: {e}")))?;
            let message = thrown.message.unwrap_or_default();
            return Err(match exception_status {
                Some(code) => Status::new(code, message),
                None => Status::unknown(format!("{}: {message}", thrown.class)),
            });
        }
        body = data;
    }
    let mut response = Response::new(serialization, body);
    response.attachments = headers::attachments_from(&without_reserved(parts.headers)).unwrap_or_default();
    Ok(response)
}

/// The reply's `grpc-encoding`; one this build cannot read is `INTERNAL` on a client, as
/// gRPC's compression spec has it.
fn reply_encoding(headers: &HeaderMap) -> Result<Encoding, Status> {
    Encoding::of(headers).map_err(|status| Status::internal(format!("reply: {}", status.message())))
}

fn send_error(shared: &Shared, error: hyper::Error) -> Status {
    let status = Status::unavailable(format!("HTTP/2 call to {} failed: {error}", shared.peer));
    // hyper reports a request it never wrote (connection closed first) as canceled.
    if error.is_canceled() {
        status.not_sent()
    } else {
        status
    }
}

/// Reply headers minus what HTTP/2 and gRPC put there themselves.
fn without_reserved(mut headers: HeaderMap) -> HeaderMap {
    headers.remove("date");
    headers.remove("server");
    headers
}
