//! Distributed tracing across services (the `opentelemetry` feature): a [`TraceLayer`] on
//! the consumer opens a client span per call and sends its context as W3C Trace Context
//! (`traceparent`, `tracestate`: attachments on the binary protocol and dubbo2, metadata on
//! gRPC and Triple); on the provider it continues the caller's trace with a server span
//! whose parent is the caller's. The spans are `tracing` spans carrying OpenTelemetry's RPC
//! semantic conventions (`otel.name` = `service/method`, `otel.kind`, `rpc.system`,
//! `rpc.service`, `rpc.method`, `rpc.grpc.status_code`, `otel.status_code`), so that with
//! [`tracing-opentelemetry`](https://docs.rs/tracing-opentelemetry)'s layer in the
//! subscriber they become OpenTelemetry spans of one trace, exported wherever the
//! application's tracer provider sends them (OTLP, Jaeger, …).
//!
//! Calls the handler makes run inside its server span, so a provider that calls another
//! through a traced client carries the same trace on.
//!
//! ```
//! # mod rpc { pub use rpc_core::*; }
//! # fn run() -> Result<(), rpc::Status> {
//! use rpc::trace::TraceLayer;
//! use tower::Layer;
//! // Added last: it sees each call first, and its span covers the other layers.
//! let server = rpc::Server::builder().layer(TraceLayer::server());
//! # drop(server);
//! let channel = rpc::Channel::builder().endpoints(["127.0.0.1:50051"]).build()?;
//! let traced = TraceLayer::client().layer(channel);
//! # drop(traced);
//! # Ok(())
//! # }
//! ```

mod future;
mod layer;
mod propagation;
mod service;

pub use future::TraceFuture;
pub use layer::TraceLayer;
pub use service::Trace;
