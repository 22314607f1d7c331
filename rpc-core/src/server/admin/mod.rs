//! The admin port: Kubernetes-style probes, Prometheus metrics, the hosted services, and
//! taking the provider out of rotation and back, over plain HTTP/1.1 on a port of its own
//! (Dubbo's QoS port, 22222 by convention). Off unless
//! [`ServerBuilder::admin`](crate::ServerBuilder::admin) asks for it.
//!
//! | path | answer |
//! |---|---|
//! | `/live` | 200 while the process serves |
//! | `/startup` | 200 once listening and registered, 503 before |
//! | `/ready` | 200 when started, online and not shutting down, else 503 |
//! | `/metrics` | the Prometheus text of [`install_prometheus`](crate::metrics::install_prometheus)'s recorder |
//! | `/services` | JSON: the hosted services, their methods, and whether the provider is online |
//! | `/offline` | deregisters (calls in flight and from consumers still holding the address are served) |
//! | `/online` | registers again |
//!
//! With a token ([`ServerBuilder::admin_token`](crate::ServerBuilder::admin_token)) every
//! path but the three probes needs `Authorization: Bearer <token>`, as Dubbo leaves only
//! its probes public.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use http::{Method, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::server::phase::Phase;
use crate::{MethodKind, ServiceDescriptor};

/// How long a request's head may take to arrive.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// The admin port's settings.
#[derive(Clone, Debug)]
pub(crate) struct AdminConfig {
    pub(crate) address: String,
    pub(crate) token: Option<String>,
}

/// Everything a request may read, shared by the port's connections.
struct Admin {
    phase: Phase,
    token: Option<String>,
    services: serde_json::Value,
}

type Reply = http::Response<Full<Bytes>>;

/// Serves the admin port on `listener` until `stop` fires.
pub(crate) fn spawn(
    listener: TcpListener,
    config: &AdminConfig,
    phase: Phase,
    services: &[(&'static ServiceDescriptor, String)],
    stop: CancellationToken,
) {
    let admin = Arc::new(Admin { phase, token: config.token.clone(), services: services_json(services) });
    let local = listener.local_addr().ok();
    let span = tracing::info_span!("rpc.admin", address = ?local);
    tokio::spawn(
        async move {
            tracing::info!("admin port serving");
            loop {
                let accepted = tokio::select! {
                    () = stop.cancelled() => break,
                    accepted = listener.accept() => accepted,
                };
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!(error = %e, "admin accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let admin = admin.clone();
                let stop = stop.clone();
                let service = hyper::service::service_fn(move |request| {
                    let admin = admin.clone();
                    async move { Ok::<_, Infallible>(admin.handle(request).await) }
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_TIMEOUT)
                    .serve_connection(TokioIo::new(stream), service);
                tokio::spawn(
                    async move {
                        tokio::select! {
                            () = stop.cancelled() => {}
                            served = connection => if let Err(e) = served {
                                tracing::debug!(error = %e, "admin connection ended");
                            },
                        }
                    }
                    .instrument(tracing::debug_span!("rpc.admin.connection", %peer)),
                );
            }
        }
        .instrument(span),
    );
}

impl Admin {
    async fn handle(&self, request: http::Request<Incoming>) -> Reply {
        let path = request.uri().path();
        tracing::debug!(method = %request.method(), path, "admin request");
        if request.method() != Method::GET && request.method() != Method::POST {
            return text(StatusCode::METHOD_NOT_ALLOWED, "use GET (or POST for /online and /offline)\n");
        }
        let probe = matches!(path, "/live" | "/ready" | "/startup");
        if !probe && !self.authorized(&request) {
            return text(StatusCode::UNAUTHORIZED, "this path needs the admin token: Authorization: Bearer <token>\n");
        }
        match path {
            "/live" => text(StatusCode::OK, "live\n"),
            "/startup" if self.phase.is_started() => text(StatusCode::OK, "started\n"),
            "/startup" => text(StatusCode::SERVICE_UNAVAILABLE, "starting\n"),
            "/ready" if self.phase.is_ready() => text(StatusCode::OK, "ready\n"),
            "/ready" if self.phase.is_offline() => text(StatusCode::SERVICE_UNAVAILABLE, "offline\n"),
            "/ready" => text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n"),
            "/metrics" => match crate::metrics::prometheus_handle() {
                Some(prometheus) => reply(StatusCode::OK, "text/plain; version=0.0.4", prometheus.render().into()),
                None => text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "no Prometheus recorder: another metrics recorder is installed in this process\n",
                ),
            },
            "/services" => {
                let mut body = self.services.clone();
                body["online"] = (!self.phase.is_offline()).into();
                reply(StatusCode::OK, "application/json", body.to_string().into())
            }
            "/offline" => {
                let changed = self.phase.offline().await;
                text(StatusCode::OK, if changed { "OK\n" } else { "already offline\n" })
            }
            "/online" if !self.phase.is_started() => text(StatusCode::SERVICE_UNAVAILABLE, "not started\n"),
            "/online" => {
                let changed = self.phase.online().await;
                if !changed && self.phase.is_offline() {
                    return text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n");
                }
                text(StatusCode::OK, if changed { "OK\n" } else { "already online\n" })
            }
            _ => text(
                StatusCode::NOT_FOUND,
                "unknown path; the admin port serves /live /ready /startup /metrics /services /online /offline\n",
            ),
        }
    }

    fn authorized(&self, request: &http::Request<Incoming>) -> bool {
        let Some(token) = &self.token else { return true };
        let offered = request.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok());
        offered
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|offered| same(offered.as_bytes(), token.as_bytes()))
    }
}

/// Compares without stopping at the first difference, so timing tells nothing of the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

fn text(status: StatusCode, body: &'static str) -> Reply {
    reply(status, "text/plain; charset=utf-8", Bytes::from_static(body.as_bytes()))
}

fn reply(status: StatusCode, content_type: &'static str, body: Bytes) -> Reply {
    let mut response = http::Response::new(Full::new(body));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// `{"services":[…]}`, what `/services` answers (with `online` added per request).
fn services_json(services: &[(&'static ServiceDescriptor, String)]) -> serde_json::Value {
    let services: Vec<serde_json::Value> = services
        .iter()
        .map(|(descriptor, group)| {
            let methods: Vec<serde_json::Value> = descriptor
                .methods
                .iter()
                .map(|method| {
                    serde_json::json!({
                        "name": method.name,
                        "arguments": method.arguments,
                        "kind": kind_name(method.kind),
                        "idempotent": method.idempotent,
                        "oneway": method.oneway,
                    })
                })
                .collect();
            serde_json::json!({
                "name": descriptor.name,
                "version": descriptor.version,
                "group": group,
                "serialization": descriptor.serialization.name(),
                "methods": methods,
            })
        })
        .collect();
    serde_json::json!({ "services": services })
}

fn kind_name(kind: MethodKind) -> &'static str {
    match kind {
        MethodKind::Unary => "unary",
        MethodKind::ClientStreaming => "client_streaming",
        MethodKind::ServerStreaming => "server_streaming",
        MethodKind::Bidirectional => "bidirectional",
    }
}
