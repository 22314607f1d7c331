//! The provider side of gRPC over HTTP/2: one hyper connection per accepted socket, each
//! request turned into a [`Request`] and run through the same service stack as the binary
//! protocol.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rpc_codec::{Metadata, SerializationId};
use tokio::io::{AsyncRead, AsyncWrite};
use tracing::Instrument;

use super::body::{GrpcBody, MessageBody};
use super::compression::{self, Compressor, Encoding};
use super::headers::{self, ContentType};
use super::message;
use super::reader::MessageReader;
use super::wrapper;
use crate::protocol::graceful::serve_until_shutdown;
use crate::protocol::{read_chunks, service_and_method, Annotator, ConnectionContext};
use crate::provider::call::call;
use crate::provider::Router;
use crate::provider::ServiceStack;
use crate::{BoxFuture, Code, Request, Response, Status};

/// Serves one HTTP/2 connection (prior knowledge: the preface that detection read is put back
/// in front of `io`) until the client closes it or the server shuts down: on shutdown it sends
/// GOAWAY, lets open streams finish, and is cut when the grace period ends.
pub(crate) async fn serve<S, IO>(io: IO, context: ConnectionContext<S>)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: ServiceStack,
{
    let ConnectionContext { service, router, config, lifecycle, info } = context;
    let annotator = Annotator::new(router.clone(), info);
    let handler = GrpcHandler {
        service,
        router,
        annotator,
        max_message: config.grpc.max_message_size,
        body_idle: config.idle_timeout,
        compression: config
            .grpc
            .compression
            .map(|compression| Compressor { compression, threshold: config.grpc.compression_threshold }),
    };
    // A peer that stops answering (never finishes the handshake, or vanished) is found by
    // pings it must acknowledge, and closed within the idle timeout.
    let ping = config.idle_timeout / 2;
    let connection = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(ping))
        .keep_alive_timeout(ping)
        .max_concurrent_streams(config.grpc.max_concurrent_streams)
        .initial_connection_window_size(config.grpc.connection_window)
        .initial_stream_window_size(config.grpc.connection_window)
        .max_frame_size(config.grpc.max_frame_size)
        .serve_connection(TokioIo::new(io), handler);
    serve_until_shutdown(connection, &lifecycle, |connection| connection.graceful_shutdown()).await
}

/// Turns HTTP/2 requests into calls on `service`.
#[derive(Clone)]
struct GrpcHandler<S> {
    service: S,
    router: Router,
    annotator: Annotator,
    max_message: usize,
    /// How long a unary request's body may send nothing.
    body_idle: Duration,
    /// How replies are compressed for callers that accept it.
    compression: Option<Compressor>,
}

impl<S> hyper::service::Service<http::Request<Incoming>> for GrpcHandler<S>
where
    S: ServiceStack,
{
    type Response = http::Response<GrpcBody>;
    type Error = Infallible;
    type Future = BoxFuture<Result<http::Response<GrpcBody>, Infallible>>;

    fn call(&self, request: http::Request<Incoming>) -> Self::Future {
        let handler = self.clone();
        let span = tracing::debug_span!("rpc.server.grpc", path = request.uri().path());
        Box::pin(async move { Ok(handler.handle(request).await) }.instrument(span))
    }
}

impl<S> GrpcHandler<S>
where
    S: ServiceStack,
{
    async fn handle(self, request: http::Request<Incoming>) -> http::Response<GrpcBody> {
        let GrpcHandler { service, router, annotator, max_message, body_idle, compression } = self;
        let (parts, body) = request.into_parts();
        if parts.method != Method::POST {
            return plain_http(StatusCode::METHOD_NOT_ALLOWED);
        }
        let serialization = match headers::content_type(&parts.headers) {
            ContentType::Grpc(serialization) => serialization,
            ContentType::NotGrpc => return plain_http(StatusCode::UNSUPPORTED_MEDIA_TYPE),
            ContentType::UnknownSubtype(name) => {
                let status = Status::unimplemented(format!(
                    "content type application/grpc+{name}: no such serialization here (proto, json, msgpack)"
                ));
                return trailers_only(SerializationId::Protobuf, &status);
            }
        };
        let encoding = match Encoding::of(&parts.headers) {
            Ok(encoding) => encoding,
            Err(status) => {
                let mut reply = trailers_only(serialization, &status);
                reply.headers_mut().insert(compression::GRPC_ACCEPT_ENCODING, compression::ACCEPTED);
                return reply;
            }
        };
        let compressor = compression.filter(|c| compression::accepts(&parts.headers, c.compression));
        let mut request = match request_head(&parts, serialization) {
            Ok(request) => request,
            Err(status) => return trailers_only(serialization, &status),
        };
        annotator.annotate(&mut request);
        // gRPC's code for an unknown service is UNIMPLEMENTED (the router says NOT_FOUND).
        let kind = match router.method_kind(&request) {
            Ok(kind) => kind,
            Err(status) => return trailers_only(serialization, &Status::unimplemented(status.message())),
        };
        if kind.is_streaming() {
            let reading = message::Reading { encoding, limit: max_message };
            return streaming(service, request, body, serialization, reading, compressor).await;
        }
        let mut wrapped = None;
        let reading = message::Reading { encoding, limit: max_message };
        let result = match unary_message(body, reading, request.deadline(), body_idle).await {
            Ok(message) => match unwrap_triple(&mut request, message, serialization) {
                Ok(wrapper) => {
                    wrapped = wrapper;
                    call(service, request).await
                }
                Err(status) => Err(status),
            },
            Err(status) => Err(status),
        };
        match result {
            Ok(mut response) => {
                if let Some(wrapped) = wrapped {
                    let data = (!matches!(&response.body[..], b"" | b"N")).then_some(&response.body[..]);
                    response.body = wrapper::encode_response(&wrapped.serialize_type, data, &wrapped.return_type);
                }
                reply(serialization, response, compressor)
            }
            Err(status) => {
                tracing::debug!(code = %status.code(), message = status.message(), "call failed");
                match wrapped {
                    Some(wrapped) if is_business_error(&status) => exception_reply(serialization, &wrapped, &status),
                    _ => trailers_only(serialization, &status),
                }
            }
        }
    }
}

/// Whether a failed wrapped call goes back as Java's Triple provider sends an exception its
/// service threw; the others (the call timed out, was cancelled, or was not run for want of
/// capacity or while shutting down) are `grpc-status` errors, as Java sends them too.
fn is_business_error(status: &Status) -> bool {
    !matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled | Code::Unavailable | Code::ResourceExhausted)
}

/// A business exception as Java's Triple provider sends one: `tri-exception-code: 3` in the
/// headers, the wrapper holding a serialized `java.lang.RuntimeException` (its type the
/// method's declared return type, as Java writes it), and `grpc-status: 0`.
fn exception_reply(serialization: SerializationId, wrapped: &Wrapped, status: &Status) -> http::Response<GrpcBody> {
    let mut exception = bytes::BytesMut::new();
    rpc_codec::dubbo::encode_exception(status.message(), &mut exception);
    let body = wrapper::encode_response(&wrapped.serialize_type, Some(&exception), &wrapped.return_type);
    let mut reply = reply(serialization, Response::new(serialization, body), None);
    let headers = reply.headers_mut();
    headers.insert(headers::EXCEPTION_CODE, HeaderValue::from_static(headers::BIZ_EXCEPTION));
    headers.insert(headers::RPC_STATUS, HeaderValue::from(u16::from(status.code() as u8)));
    reply
}

/// A streaming call: the request body becomes the handler's inbound messages as they arrive,
/// and its reply messages are sent as it yields them, both under HTTP/2 flow control. When
/// the client goes away hyper drops both streams, which cancels the handler's work.
async fn streaming<S>(
    service: S,
    request: Request,
    body: Incoming,
    serialization: SerializationId,
    reading: message::Reading,
    compressor: Option<Compressor>,
) -> http::Response<GrpcBody>
where
    S: ServiceStack,
{
    let deadline = request.deadline();
    let inbound =
        Box::pin(MessageReader::new(body, reading.limit, false, "request stream", deadline, reading.encoding));
    let messages = match call(service, request.with_messages(inbound)).await {
        Ok(response) => response.into_messages(),
        Err(status) => return trailers_only(serialization, &status),
    };
    let mut reply = http::Response::new(GrpcBody::Stream(MessageBody::new(messages, true, deadline, compressor)));
    reply.headers_mut().insert(http::header::CONTENT_TYPE, headers::content_type_value(serialization));
    announce_compression(reply.headers_mut(), compressor);
    reply
}

/// `grpc-encoding` (and what this server accepts) on a reply whose messages may be compressed.
fn announce_compression(headers: &mut HeaderMap, compressor: Option<Compressor>) {
    if let Some(compressor) = compressor {
        headers.insert(compression::GRPC_ENCODING, compression::header(compressor.compression));
        headers.insert(compression::GRPC_ACCEPT_ENCODING, compression::ACCEPTED);
    }
}

/// The call an HTTP/2 request names (its message, if unary, is read separately).
fn request_head(parts: &http::request::Parts, serialization: SerializationId) -> Result<Request, Status> {
    let (service, method) = service_and_method(parts.uri.path())
        .ok_or_else(|| Status::unimplemented(format!("path {} is not /service/method", parts.uri.path())))?;
    let deadline = match parts.headers.get(headers::GRPC_TIMEOUT) {
        None => None,
        Some(value) => {
            let timeout = value.to_str().ok().and_then(headers::parse_timeout).ok_or_else(|| {
                Status::invalid_argument(format!("grpc-timeout {value:?} is not 1 to 8 digits and a unit"))
            })?;
            Some(Instant::now() + timeout)
        }
    };
    let mut metadata = Metadata::call(service.to_string(), method.to_string());
    metadata.attachments = headers::attachments_from(&parts.headers)?;
    if let Some(version) = text_header(&parts.headers, headers::SERVICE_VERSION) {
        metadata.version = version.into();
    }
    if let Some(group) = text_header(&parts.headers, headers::SERVICE_GROUP) {
        metadata.group = group.into();
    }
    // A Dubbo consumer's application, as a dubbo2 call carries it.
    if let Some(application) = text_header(&parts.headers, headers::CONSUMER_APPNAME) {
        metadata.attachments.insert("remote.application", application);
    }
    Ok(Request::from_parts(metadata, serialization, false, Bytes::new(), deadline))
}

/// What a reply to a wrapped (Java interface-mode) call is wrapped in.
struct Wrapped {
    serialize_type: String,
    return_type: String,
}

/// Takes `message` as the request's body, unwrapping it if it is Triple's wrapper of a call to
/// a service not declared protobuf, whose arguments are as many as the method's (see
/// [`wrapper`]): the arguments then become one Hessian2 body.
fn unwrap_triple(
    request: &mut Request,
    message: Bytes,
    serialization: SerializationId,
) -> Result<Option<Wrapped>, Status> {
    let method = match request.descriptor() {
        Some(service)
            if serialization == SerializationId::Protobuf && service.serialization != SerializationId::Protobuf =>
        {
            service.method(request.method())
        }
        _ => None,
    };
    let wrapper = method.and_then(|method| {
        wrapper::parse_request(&message).filter(|w| w.args.len() == method.arguments.len()).map(|w| (method, w))
    });
    let Some((method, wrapper)) = wrapper else {
        request.body = message;
        return Ok(None);
    };
    if !wrapper::is_hessian(&wrapper.serialize_type) {
        return Err(Status::unimplemented(format!(
            "Triple wrapper with serializeType {}: only hessian2 (hessian4) is served",
            wrapper.serialize_type
        )));
    }
    let body = rpc_codec::serialization::hessian::merge_arguments(&wrapper.args)
        .map_err(|e| Status::invalid_argument(format!("arguments of the Triple wrapper: {e}")))?;
    request.body = body.freeze();
    request.serialization = SerializationId::Hessian2;
    let return_type = rpc_codec::dubbo::class_name(method.java_return);
    Ok(Some(Wrapped { serialize_type: wrapper.serialize_type, return_type }))
}

/// The one message of a unary call's body (not copied if it came in a chunk of its own):
/// `ResourceExhausted` past `max_message` (plus its prefix), without buffering the rest;
/// `DeadlineExceeded` if it is still arriving at the deadline; `Cancelled` if none of it
/// arrives for `idle`.
async fn unary_message(
    body: Incoming,
    reading: message::Reading,
    deadline: Option<Instant>,
    idle: Duration,
) -> Result<Bytes, Status> {
    let max_message = reading.limit;
    let limit = max_message.saturating_add(2 * message::PREFIX_LEN);
    let body = read_chunks(body, limit, deadline, Some(idle))
        .await
        .map_err(|e| e.into_status(|| format!("request message over the limit of {max_message} bytes; not run")))?;
    message::decode_unary_chunks(body.chunks, "request", reading)
}

fn text_header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty())
}

/// A successful reply: headers (with the reply's attachments), one message, `grpc-status: 0`.
fn reply(
    serialization: SerializationId,
    response: Response,
    compressor: Option<Compressor>,
) -> http::Response<GrpcBody> {
    let data = match message::encode(&response.body, compressor) {
        Ok(data) => data,
        Err(status) => return trailers_only(serialization, &status),
    };
    let mut reply = http::Response::new(GrpcBody::unary(data, Some(ok_trailers())));
    let headers = reply.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, headers::content_type_value(serialization));
    announce_compression(headers, compressor);
    headers::put_attachments(headers, &response.attachments);
    reply
}

fn ok_trailers() -> HeaderMap {
    let mut trailers = HeaderMap::with_capacity(1);
    trailers.insert(headers::GRPC_STATUS, HeaderValue::from_static("0"));
    trailers
}

/// An error as gRPC's trailers-only response: status 200, the status in the headers, no body.
fn trailers_only(serialization: SerializationId, status: &Status) -> http::Response<GrpcBody> {
    let mut reply = http::Response::new(GrpcBody::empty());
    let headers = reply.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, headers::content_type_value(serialization));
    headers::put_status(headers, status);
    reply
}

fn plain_http(status: StatusCode) -> http::Response<GrpcBody> {
    let mut reply = http::Response::new(GrpcBody::empty());
    *reply.status_mut() = status;
    reply
}
