//! One layered path for every call: a tower layer on the provider and one on the consumer
//! see unary and streaming calls alike, on the binary protocol and on gRPC, with what the
//! provider knows of each request (its connection, protocol and method), and a layer can
//! refuse a streaming call before its handler runs.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use common::numbers::{Number, NumbersClient, NumbersImpl, NumbersServer};
use common::{EchoClient, EchoImpl, EchoServer};
use futures_util::StreamExt;
use rpc::{Code, MethodKind, Protocol, Request, Status};

/// What a layer saw of one call.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    method: String,
    streaming: bool,
    /// The method's kind, from the descriptor the request carries (both sides know it).
    kind: Option<MethodKind>,
    /// The provider's side only: the protocol the request arrived in, and whether the
    /// caller's address came along.
    protocol: Option<Protocol>,
    has_peer: bool,
}

/// Records every call it passes on; refuses calls of `refuse` with `PermissionDenied`.
#[derive(Clone, Default)]
struct CountLayer {
    seen: Arc<Mutex<Vec<Seen>>>,
    refuse: Option<&'static str>,
}

impl CountLayer {
    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

impl<S> tower::Layer<S> for CountLayer {
    type Service = Counted<S>;
    fn layer(&self, inner: S) -> Counted<S> {
        Counted { inner, layer: self.clone() }
    }
}

#[derive(Clone)]
struct Counted<S> {
    inner: S,
    layer: CountLayer,
}

impl<S> tower::Service<Request> for Counted<S>
where
    S: tower::Service<Request, Response = rpc::Response, Error = Status>,
    S::Future: Send + 'static,
{
    type Response = rpc::Response;
    type Error = Status;
    type Future = rpc::BoxFuture<Result<rpc::Response, Status>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let connection = request.connection();
        self.layer.seen.lock().unwrap().push(Seen {
            method: request.method().to_string(),
            streaming: request.is_streaming(),
            protocol: connection.map(|c| c.protocol),
            has_peer: connection.and_then(|c| c.peer_addr).is_some(),
            kind: request.method_descriptor().map(|m| m.kind),
        });
        if self.layer.refuse == Some(request.method()) {
            let refused = Status::permission_denied(format!("{} refused by a layer", request.method()));
            return Box::pin(std::future::ready(Err(refused)));
        }
        Box::pin(self.inner.call(request))
    }
}

/// A provider of both test services behind `layer`.
async fn provider(layer: CountLayer, numbers: NumbersImpl) -> SocketAddr {
    let bound = rpc::Server::builder()
        .layer(layer)
        .add_service(EchoServer::new(EchoImpl::default()))
        .add_service(NumbersServer::new(numbers))
        .bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = bound.local_addr().unwrap();
    tokio::spawn(bound.serve());
    addr
}

/// The four calls every test makes: one unary, one of each streaming kind.
async fn four_calls(echo: &EchoClient<Counted<rpc::Channel>>, numbers: &NumbersClient<Counted<rpc::Channel>>) {
    assert_eq!(echo.echo("hi".into()).await.unwrap(), "hi");
    let counted: Vec<u64> = numbers.count(Number::new(3)).await.unwrap().map(|n| n.unwrap().value).collect().await;
    assert_eq!(counted, [0, 1, 2]);
    let sum = numbers.sum(futures_util::stream::iter((1..=4).map(Number::new))).await.unwrap();
    assert_eq!(sum.value, 10);
    let doubled = numbers.double(futures_util::stream::iter([Number::new(21)])).await.unwrap();
    let doubled: Vec<u64> = doubled.map(|n| n.unwrap().value).collect().await;
    assert_eq!(doubled, [42]);
}

fn seen(method: &str, streaming: bool, kind: MethodKind, arrived_in: Option<Protocol>) -> Seen {
    Seen {
        method: method.to_string(),
        streaming,
        kind: Some(kind),
        protocol: arrived_in,
        has_peer: arrived_in.is_some(),
    }
}

#[tokio::test]
async fn one_layer_sees_unary_and_streaming_calls_on_both_sides_and_both_protocols() {
    let server_layer = CountLayer::default();
    let addr = provider(server_layer.clone(), NumbersImpl::default()).await;
    for protocol in [Protocol::Binary, Protocol::Grpc] {
        let client_layer = CountLayer::default();
        let channel = rpc::Channel::builder().protocol(protocol).connect(addr).await.unwrap();
        let layered = tower::ServiceBuilder::new().layer(client_layer.clone()).service(channel);
        let echo = EchoClient::new(layered.clone());
        let numbers = NumbersClient::new(layered);
        four_calls(&echo, &numbers).await;

        let calls = [
            ("echo", false, MethodKind::Unary),
            ("Count", true, MethodKind::ServerStreaming),
            ("Sum", true, MethodKind::ClientStreaming),
            ("Double", true, MethodKind::Bidirectional),
        ];
        let on_the_client: Vec<Seen> = calls.iter().map(|(m, s, k)| seen(m, *s, *k, None)).collect();
        let on_the_provider: Vec<Seen> = calls.iter().map(|(m, s, k)| seen(m, *s, *k, Some(protocol))).collect();
        assert_eq!(client_layer.take(), on_the_client, "{protocol:?}: the consumer's layer");
        assert_eq!(server_layer.take(), on_the_provider, "{protocol:?}: the provider's layer");
    }
}

#[tokio::test]
async fn a_provider_layer_refuses_a_streaming_call_before_its_handler_runs() {
    let numbers = NumbersImpl::default();
    let refusing = CountLayer { refuse: Some("Count"), ..CountLayer::default() };
    let addr = provider(refusing.clone(), numbers.clone()).await;
    for protocol in [Protocol::Binary, Protocol::Grpc] {
        let channel = rpc::Channel::builder().protocol(protocol).connect(addr).await.unwrap();
        let client = NumbersClient::new(channel);
        let refused = match client.count(Number::new(1_000)).await {
            // gRPC answers a refused stream with its trailers; the binary protocol's stream
            // ends with the status as its first item.
            Err(status) => status,
            Ok(mut replies) => replies.next().await.expect("an end").expect_err("refused"),
        };
        assert_eq!(refused.code(), Code::PermissionDenied, "{protocol:?}: {refused}");
        assert!(refused.message().contains("refused by a layer"), "{protocol:?}: {refused}");
    }
    assert_eq!(numbers.produced.load(std::sync::atomic::Ordering::SeqCst), 0, "the handler never ran");
    assert_eq!(refusing.take().len(), 2);
}
