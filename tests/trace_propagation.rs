//! One trace across three processes' worth of services: a consumer calls provider A, whose
//! handler calls provider B, each hop over the network with W3C Trace Context in the call,
//! recorded by OpenTelemetry's SDK into its in-memory exporter. Over the binary protocol,
//! gRPC and dubbo2. A call without a traced client starts a trace of its own at the
//! provider: the parent comes from the wire, not from sharing a process.
#![cfg(feature = "opentelemetry")]

mod common;

use std::net::SocketAddr;

use common::{EchoClient, EchoImpl, EchoServer, Probe};
use opentelemetry::trace::{SpanId, SpanKind, TracerProvider as _};
use opentelemetry::Value;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use rpc::trace::{Trace, TraceLayer};
use rpc::{Channel, Protocol, SerializationId, Status};
use tower::Layer;
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

#[rpc::service(name = "test.Relay")]
pub trait Relay {
    async fn relay(&self, text: String) -> Result<String, Status>;
}

/// Provider A: asks provider B to echo, through a traced client.
struct RelayImpl {
    next: EchoClient<Trace<Channel>>,
}

impl Relay for RelayImpl {
    async fn relay(&self, text: String) -> Result<String, Status> {
        self.next.echo(format!("via A: {text}")).await
    }
}

async fn channel(addr: SocketAddr, protocol: Protocol) -> Channel {
    Channel::builder().protocol(protocol).connect(addr).await.expect("connect")
}

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| &kv.value)
}

fn find<'a>(spans: &'a [SpanData], name: &str, kind: SpanKind) -> &'a SpanData {
    spans.iter().find(|s| s.name == name && s.span_kind == kind).unwrap_or_else(|| {
        let seen: Vec<_> = spans.iter().map(|s| (s.name.to_string(), s.span_kind.clone())).collect();
        panic!("no {kind:?} span {name}: {seen:?}")
    })
}

/// An OpenTelemetry SDK recording into memory, as this thread's subscriber. The tests' runtime
/// is single-threaded, so every task they spawn sees it.
fn traced() -> (InMemorySpanExporter, SdkTracerProvider, tracing::subscriber::DefaultGuard) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).build();
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    (exporter, provider, tracing::subscriber::set_default(subscriber))
}

#[tokio::test]
async fn one_trace_spans_consumer_provider_a_and_provider_b() {
    let (exporter, provider, _subscriber) = traced();

    let b = rpc::Server::builder()
        .layer(TraceLayer::server())
        .add_service(EchoServer::new(EchoImpl { probe: Probe::default() }))
        .bind("127.0.0.1:0")
        .await
        .expect("bind B");
    let b_addr = b.local_addr().expect("addr");
    tokio::spawn(b.serve());

    for (protocol, system) in [(Protocol::Binary, "rpc"), (Protocol::Grpc, "grpc"), (Protocol::Dubbo, "apache_dubbo")] {
        exporter.reset();
        let serialization =
            if protocol == Protocol::Dubbo { SerializationId::Hessian2 } else { SerializationId::MsgPack };
        let options = rpc::CallOptions::new().serialization(serialization);
        let to_b = TraceLayer::client().protocol(protocol).layer(channel(b_addr, protocol).await);
        let a = rpc::Server::builder()
            .layer(TraceLayer::server())
            .add_service(RelayServer::new(RelayImpl { next: EchoClient::new(to_b).with_options(options.clone()) }))
            .bind("127.0.0.1:0")
            .await
            .expect("bind A");
        let a_addr = a.local_addr().expect("addr");
        let a_task = tokio::spawn(a.serve());

        let consumer = RelayClient::new(TraceLayer::client().protocol(protocol).layer(channel(a_addr, protocol).await))
            .with_options(options.clone());
        let reply = consumer.relay("hi".into()).instrument(tracing::info_span!("checkout")).await.expect("relay");
        assert_eq!(reply, "via A: hi");

        let _ = provider.force_flush();
        let spans = exporter.get_finished_spans().expect("spans");
        let root = spans.iter().find(|s| s.name == "checkout").expect("the consumer's own span");
        let to_a = find(&spans, "test.Relay/relay", SpanKind::Client);
        let at_a = find(&spans, "test.Relay/relay", SpanKind::Server);
        let a_to_b = find(&spans, "test.Echo/echo", SpanKind::Client);
        let at_b = find(&spans, "test.Echo/echo", SpanKind::Server);
        let trace = root.span_context.trace_id();
        for span in [to_a, at_a, a_to_b, at_b] {
            assert_eq!(span.span_context.trace_id(), trace, "{protocol:?}: {} is in the consumer's trace", span.name);
        }
        assert_eq!(to_a.parent_span_id, root.span_context.span_id(), "{protocol:?}");
        assert_eq!(at_a.parent_span_id, to_a.span_context.span_id(), "{protocol:?}: A continues the consumer's span");
        assert_eq!(a_to_b.parent_span_id, at_a.span_context.span_id(), "{protocol:?}: A's call is inside its handler");
        assert_eq!(at_b.parent_span_id, a_to_b.span_context.span_id(), "{protocol:?}: B continues A's client span");
        for span in [to_a, at_a, a_to_b, at_b] {
            assert_eq!(attribute(span, "rpc.system"), Some(&Value::from(system)), "{protocol:?} {}", span.name);
            assert_eq!(attribute(span, "rpc.grpc.status_code"), Some(&Value::I64(0)), "{protocol:?} {}", span.name);
        }
        assert_eq!(attribute(at_b, "rpc.service"), Some(&Value::from("test.Echo")));
        assert_eq!(attribute(at_b, "rpc.method"), Some(&Value::from("echo")));

        // Without a traced client nothing goes on the wire, and B starts a trace of its own.
        exporter.reset();
        let untraced = EchoClient::new(channel(b_addr, protocol).await).with_options(options.clone());
        untraced.echo("alone".into()).instrument(tracing::info_span!("untraced")).await.expect("echo");
        let _ = provider.force_flush();
        let spans = exporter.get_finished_spans().expect("spans");
        let caller = spans.iter().find(|s| s.name == "untraced").expect("the caller's span");
        let at_b = find(&spans, "test.Echo/echo", SpanKind::Server);
        assert_ne!(at_b.span_context.trace_id(), caller.span_context.trace_id(), "{protocol:?}");
        assert_eq!(at_b.parent_span_id, SpanId::INVALID, "{protocol:?}: a root span");
        a_task.abort();
    }
}

#[tokio::test]
async fn a_failed_call_marks_both_spans() {
    let (exporter, provider, _subscriber) = traced();
    let server = rpc::Server::builder()
        .layer(TraceLayer::server())
        .add_service(EchoServer::new(EchoImpl { probe: Probe::default() }))
        .bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = server.local_addr().expect("addr");
    tokio::spawn(server.serve());
    let client = EchoClient::new(TraceLayer::client().layer(channel(addr, Protocol::Binary).await));
    let failed = client.fail("on purpose".into()).await.expect_err("fails");
    let _ = provider.force_flush();
    let spans = exporter.get_finished_spans().expect("spans");
    let code = Value::I64(failed.code() as i64);
    for kind in [SpanKind::Client, SpanKind::Server] {
        let span = find(&spans, "test.Echo/fail", kind.clone());
        assert_eq!(attribute(span, "rpc.grpc.status_code"), Some(&code), "{kind:?}");
    }
    let client_span = find(&spans, "test.Echo/fail", SpanKind::Client);
    assert!(matches!(client_span.status, opentelemetry::trace::Status::Error { .. }), "{:?}", client_span.status);
}
