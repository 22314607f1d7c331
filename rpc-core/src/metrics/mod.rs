//! Prometheus-style metrics of every call, on both sides and every protocol: a
//! [`MetricsLayer`] counts requests by status code, times them, and tracks those in flight,
//! per service and method; [`install_prometheus`] renders them in Prometheus' text format
//! (the admin port's `/metrics` does, see [`ServerBuilder::admin`](crate::ServerBuilder::admin)).
//!
//! The series go through the [`metrics`] facade, as spans go through `tracing`: an
//! application that already installs a recorder of its own (statsd, OpenTelemetry, another
//! Prometheus exporter) gets them there. Handles are looked up once per service and method
//! and kept, so a call costs a few atomic operations, not a label lookup. A recorder must be
//! installed before the first call a layer records: series registered with none stay silent.
//!
//! Series, with `service` and `method` labels (`side` is `server` or `client`):
//!
//! | name | kind | what |
//! |---|---|---|
//! | `rpc_{side}_requests_total` | counter | calls finished, by `code` (`OK`, `DEADLINE_EXCEEDED`, …) |
//! | `rpc_{side}_request_duration_seconds` | histogram | time to the reply (for a stream, to its start) |
//! | `rpc_{side}_requests_in_flight` | gauge | calls started and not finished |
//!
//! A server also counts its connections: `rpc_server_connections_accepted_total`,
//! `rpc_server_connections_refused_total` (over a connection limit) and the gauge
//! `rpc_server_connections_open`.
//!
//! A consumer's cluster channel adds what it sees of each provider through
//! [`observe_endpoints`] (breaker state, connected, in flight, calls balanced to it), and
//! records on its own `rpc_client_retries_total`, `rpc_client_retry_budget_exhausted_total`
//! and, for registry discovery, `rpc_registry_subscriptions`, `rpc_registry_events_total`,
//! `rpc_registry_instances`, `rpc_registry_errors_total` and
//! `rpc_registry_last_update_timestamp_seconds` (by `service`).
//!
//! [`MetricsLayer::dubbo_names`] records Apache Dubbo's names instead
//! (`dubbo_provider_requests_total`, `dubbo_consumer_requests_succeed_total`, …, with
//! `application_name`, `interface`, `method`, `group` and `version` labels), so dashboards
//! built for Java Dubbo read a Rust provider too.
//!
//! Labels are bounded: a layer records at most 1,024 distinct services and methods (a caller
//! may name any), and calls past that count under `_other`.
//!
//! ```
//! # mod rpc { pub use rpc_core::*; }
//! use rpc::metrics::MetricsLayer;
//! let prometheus = rpc::metrics::install_prometheus().expect("no other recorder in this process");
//! let server = rpc::Server::builder().layer(MetricsLayer::server());
//! # drop(server);
//! // What a scrape returns.
//! let text = prometheus.render();
//! # drop(text);
//! ```

mod code;
mod endpoints;
mod future;
mod layer;
mod names;
mod prometheus;
mod series;
mod service;

pub(crate) use code::of_outcome;
pub use code::ErrorCode;
pub use endpoints::observe_endpoints;
pub use future::MetricsFuture;
pub use layer::MetricsLayer;
pub use prometheus::{install_prometheus, prometheus_handle, PrometheusHandle};
pub use service::Metrics;
