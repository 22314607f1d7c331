use std::task::{Context, Poll};

use tower::Service;
use tracing::field::Empty;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::layer::Side;
use super::propagation;
use super::TraceFuture;
use crate::metrics::ErrorCode;
use crate::{Protocol, Request, Response};

/// The service [`TraceLayer`](super::TraceLayer) makes.
#[derive(Clone)]
pub struct Trace<S> {
    inner: S,
    side: Side,
}

impl<S> Trace<S> {
    pub(super) fn new(inner: S, side: Side) -> Trace<S> {
        Trace { inner, side }
    }
}

/// `rpc.system` as OpenTelemetry's conventions name it.
fn system(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Grpc => "grpc",
        Protocol::Dubbo | Protocol::Rest => "apache_dubbo",
        Protocol::Binary => "rpc",
    }
}

impl<S> Service<Request> for Trace<S>
where
    S: Service<Request, Response = Response>,
    S::Error: ErrorCode,
{
    type Response = Response;
    type Error = S::Error;
    type Future = TraceFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let name = format!("{}/{}", request.service(), request.method());
        let (kind, protocol) = match self.side {
            Side::Server => ("server", request.connection().map_or(Protocol::Binary, |c| c.protocol)),
            Side::Client { protocol } => ("client", protocol),
        };
        let span = tracing::info_span!(
            "rpc.call",
            otel.name = %name,
            otel.kind = kind,
            rpc.system = system(protocol),
            rpc.service = %request.service(),
            rpc.method = %request.method(),
            rpc.grpc.status_code = Empty,
            otel.status_code = Empty,
            otel.status_message = Empty,
        );
        match self.side {
            Side::Server => {
                // The caller's span, or none: a call that brings no trace starts one, rather
                // than joining the spans of the connection it came on. Fails only without
                // an OpenTelemetry layer, where there is no trace to join.
                let parent = propagation::extract(request.attachments()).unwrap_or_default();
                let _ = span.set_parent(parent);
            }
            Side::Client { .. } => propagation::inject(&span.context(), request.attachments_mut()),
        }
        let call = span.in_scope(|| self.inner.call(request));
        TraceFuture::new(call.instrument(span), matches!(self.side, Side::Server))
    }
}
