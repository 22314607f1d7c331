//! The provider side of Triple over HTTP/1.1 with JSON: one hyper HTTP/1.1 connection per
//! accepted socket (keep-alive), each request run through the same service stack as every
//! other protocol, with JSON as its serialization.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use rpc_codec::{Metadata, SerializationId};
use tokio::io::{AsyncRead, AsyncWrite};
use tracing::Instrument;

use super::arguments;
use crate::protocol::graceful::serve_until_shutdown;
use crate::protocol::grpc::headers;
use crate::protocol::{read_whole, service_and_method, Annotator, ConnectionContext};
use crate::provider::call::call;
use crate::provider::ServiceStack;
use crate::{BoxFuture, Code, MethodKind, Request, Status};

/// Serves one HTTP/1.1 connection until the client closes it or the server shuts down (the
/// request in progress finishes; a forced stop cuts it).
pub(crate) async fn serve<S, IO>(io: IO, context: ConnectionContext<S>)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: ServiceStack,
{
    let ConnectionContext { service, router, config, lifecycle, info } = context;
    let handler = RestHandler {
        service,
        annotator: Annotator::new(router, info),
        max_body: config.grpc.max_message_size,
        body_idle: config.idle_timeout,
    };
    // A request's head must arrive within the idle timeout (hyper's header read timeout,
    // which needs a timer).
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(config.idle_timeout)
        .serve_connection(TokioIo::new(io), handler);
    serve_until_shutdown(connection, &lifecycle, |connection| connection.graceful_shutdown()).await
}

#[derive(Clone)]
struct RestHandler<S> {
    service: S,
    annotator: Annotator,
    max_body: usize,
    /// How long a request's body may send nothing.
    body_idle: Duration,
}

impl<S> hyper::service::Service<http::Request<Incoming>> for RestHandler<S>
where
    S: ServiceStack,
{
    type Response = http::Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = BoxFuture<Result<http::Response<Full<Bytes>>, Infallible>>;

    fn call(&self, request: http::Request<Incoming>) -> Self::Future {
        let handler = self.clone();
        let span = tracing::debug_span!("rpc.server.rest", path = request.uri().path());
        Box::pin(
            async move { Ok(handler.handle(request).await.unwrap_or_else(|status| error(&status))) }.instrument(span),
        )
    }
}

impl<S> RestHandler<S>
where
    S: ServiceStack,
{
    async fn handle(self, request: http::Request<Incoming>) -> Result<http::Response<Full<Bytes>>, Status> {
        let (parts, body) = request.into_parts();
        if parts.method != Method::POST && parts.method != Method::GET {
            return Err(Status::unimplemented(format!("{} is not served: POST the arguments as JSON", parts.method)));
        }
        let (service, method) = service_and_method(parts.uri.path())
            .ok_or_else(|| Status::not_found(format!("path {} is not /{{service}}/{{method}}", parts.uri.path())))?;
        let version =
            first_header(&parts.headers, &["tri-service-version", "rest-service-version"]).unwrap_or_default();
        let group = first_header(&parts.headers, &["tri-service-group", "rest-service-group"]).unwrap_or_default();
        let descriptor = self.annotator.hosted().descriptor(service, version, group).ok_or_else(|| {
            Status::not_found(format!("no service {service} (version {version:?}, group {group:?}) here"))
        })?;
        let method_descriptor =
            descriptor.method(method).ok_or_else(|| Status::not_found(format!("{service} has no method {method}")))?;
        if method_descriptor.kind != MethodKind::Unary {
            return Err(Status::unimplemented(format!("{service}/{method} streams: call it over gRPC")));
        }
        let is_json = parts.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_none_or(|v| {
            let media = v.split(';').next().unwrap_or_default().trim();
            media.eq_ignore_ascii_case("application/json") || media.eq_ignore_ascii_case("text/json")
        });
        if !is_json {
            let status = Status::invalid_argument("the body must be application/json");
            return Ok(error_as(StatusCode::UNSUPPORTED_MEDIA_TYPE, &status));
        }
        let timeout = first_header(&parts.headers, &["tri-service-timeout"]).and_then(|ms| ms.parse::<u64>().ok());
        let deadline = timeout.filter(|&ms| ms > 0).map(|ms| Instant::now() + Duration::from_millis(ms));
        let max_body = self.max_body;
        let body = read_whole(body, max_body, deadline, self.body_idle)
            .await
            .map_err(|e| e.into_status(|| format!("body over the limit of {max_body} bytes; not run")))?;
        let arguments = arguments::from_body(method_descriptor, &body).map_err(Status::invalid_argument)?;
        let mut metadata = Metadata::call(service.to_string(), method.to_string());
        metadata.version = version.into();
        metadata.group = group.into();
        // The caller's other headers are its attachments, as on HTTP/2.
        metadata.attachments = headers::attachments_from(&parts.headers)?;
        if let Some(application) = first_header(&parts.headers, &[headers::CONSUMER_APPNAME]) {
            metadata.attachments.insert("remote.application", application);
        }
        let mut request = Request::from_parts(metadata, SerializationId::Json, false, arguments, deadline);
        self.annotator.annotate(&mut request);
        let response = call(self.service, request).await?;
        let mut reply = http::Response::new(Full::new(response.body));
        reply.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Ok(reply)
    }
}

fn first_header<'a>(headers: &'a HeaderMap, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|name| headers.get(*name)).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty())
}

/// An error as Dubbo's REST answers it: the HTTP status its code maps to, and a JSON body.
fn error(status: &Status) -> http::Response<Full<Bytes>> {
    error_as(http_status(status.code()), status)
}

fn error_as(http: StatusCode, status: &Status) -> http::Response<Full<Bytes>> {
    let body = serde_json::json!({
        "status": http.as_u16().to_string(),
        // gRPC's canonical name: FAILED_PRECONDITION.
        "code": status.code().as_str().to_uppercase().replace(' ', "_"),
        "message": status.message(),
    });
    let mut reply = http::Response::new(Full::new(Bytes::from(body.to_string())));
    *reply.status_mut() = http;
    reply.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    reply
}

/// The HTTP status for a code, as gRPC's HTTP mapping and REST APIs use them.
fn http_status(code: Code) -> StatusCode {
    match code {
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound | Code::Unimplemented => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
