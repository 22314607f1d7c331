//! Streaming methods: a tonic client against an `rpc` provider (all three kinds over gRPC),
//! the generated `rpc` client over gRPC and over the binary protocol, flow control (a slow
//! reader stalls the provider) and cancellation both ways. (A million messages in bounded
//! memory: `streaming_memory.rs`, alone in its process so the peak RSS is its own.)

mod common;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::numbers::{Number, NumbersClient, NumbersImpl, NumbersServer, POISON};
use futures_util::StreamExt;
use rpc::{Code, Protocol};
use tonic::codegen::http::uri::PathAndQuery;
use tonic_prost::ProstCodec;

async fn provider() -> (SocketAddr, NumbersImpl) {
    let numbers = NumbersImpl::default();
    let bound = rpc::Server::builder()
        .add_service(NumbersServer::new(numbers.clone()))
        .bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = bound.local_addr().unwrap();
    tokio::spawn(bound.serve());
    (addr, numbers)
}

async fn tonic_client(addr: SocketAddr) -> tonic::client::Grpc<tonic::transport::Channel> {
    let channel = tonic::transport::Endpoint::new(format!("http://{addr}")).unwrap().connect().await.unwrap();
    tonic::client::Grpc::new(channel)
}

fn codec() -> ProstCodec<Number, Number> {
    ProstCodec::default()
}

async fn client(addr: SocketAddr, protocol: Protocol) -> NumbersClient {
    NumbersClient::new(rpc::Channel::builder().protocol(protocol).connect(addr).await.unwrap())
}

const PROTOCOLS: [Protocol; 2] = [Protocol::Binary, Protocol::Grpc];

#[tokio::test]
async fn a_tonic_client_uses_every_streaming_kind() {
    let (addr, _numbers) = provider().await;
    let mut grpc = tonic_client(addr).await;

    grpc.ready().await.unwrap();
    let path = PathAndQuery::from_static("/test.Numbers/Count");
    let mut counted =
        grpc.server_streaming(tonic::Request::new(Number::new(5)), path, codec()).await.unwrap().into_inner();
    let mut values = Vec::new();
    while let Some(number) = counted.message().await.unwrap() {
        values.push(number.value);
    }
    assert_eq!(values, [0, 1, 2, 3, 4]);

    grpc.ready().await.unwrap();
    let path = PathAndQuery::from_static("/test.Numbers/Sum");
    let numbers = futures_util::stream::iter((1..=100).map(Number::new));
    let sum = grpc.client_streaming(tonic::Request::new(numbers), path, codec()).await.unwrap().into_inner();
    assert_eq!(sum.value, 5050);

    grpc.ready().await.unwrap();
    let path = PathAndQuery::from_static("/test.Numbers/Sum");
    let poisoned = futures_util::stream::iter([1, POISON, 2].map(Number::new));
    let refused = grpc.client_streaming(tonic::Request::new(poisoned), path, codec()).await.unwrap_err();
    assert_eq!((refused.code(), refused.message()), (tonic::Code::OutOfRange, "poison is not summed"));

    // Bidirectional, in lock step: each reply is read before the next request is sent.
    grpc.ready().await.unwrap();
    let (sender, requests) = tokio::sync::mpsc::channel::<Number>(1);
    let path = PathAndQuery::from_static("/test.Numbers/Double");
    let requests = tokio_stream_from(requests);
    sender.send(Number::new(1)).await.unwrap();
    let mut replies = grpc.streaming(tonic::Request::new(requests), path, codec()).await.unwrap().into_inner();
    for value in 1..=20u64 {
        assert_eq!(replies.message().await.unwrap().unwrap().value, value * 2);
        sender.send(Number::new(value + 1)).await.unwrap();
    }
    assert_eq!(replies.message().await.unwrap().unwrap().value, 42);
    sender.send(Number::new(POISON)).await.unwrap();
    let ended = replies.message().await.unwrap_err();
    assert_eq!(ended.code(), tonic::Code::OutOfRange, "a handler's error item ends the stream with its status");
}

/// An mpsc receiver as a stream.
fn tokio_stream_from(mut receiver: tokio::sync::mpsc::Receiver<Number>) -> impl futures_util::Stream<Item = Number> {
    futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx))
}

// Two threads: an endless provider stream on the test's own thread would keep the client
// from reading its first reply before the deadline in a debug build.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_client_streams_over_both_protocols() {
    let (addr, _numbers) = provider().await;
    for protocol in PROTOCOLS {
        let client = client(addr, protocol).await;
        let counted: Vec<u64> = client.count(Number::new(100)).await.unwrap().map(|n| n.unwrap().value).collect().await;
        assert_eq!(counted, (0..100).collect::<Vec<_>>(), "{protocol:?}");
        let sum = client.sum(futures_util::stream::iter((1..=1000).map(Number::new))).await.unwrap();
        assert_eq!(sum.value, 500_500);
        let empty = client.sum(futures_util::stream::iter(Vec::<Number>::new())).await.unwrap();
        assert_eq!(empty.value, 0, "a client stream of no messages");
        let refused = client.sum(futures_util::stream::iter([Number::new(POISON)])).await.unwrap_err();
        assert_eq!((refused.code(), refused.message()), (Code::OutOfRange, "poison is not summed"));
        let mut doubled = client.double(futures_util::stream::iter((0..1000).map(Number::new))).await.unwrap();
        for value in 0..1000u64 {
            assert_eq!(doubled.next().await.unwrap().unwrap().value, value * 2, "{protocol:?}");
        }
        assert!(doubled.next().await.is_none(), "ends after the last reply, with status OK");
        let mut poisoned =
            client.double(futures_util::stream::iter([Number::new(1), Number::new(POISON)])).await.unwrap();
        assert_eq!(poisoned.next().await.unwrap().unwrap().value, 2);
        assert_eq!(poisoned.next().await.unwrap().unwrap_err().code(), Code::OutOfRange, "{protocol:?}");
        // A deadline that opening the stream beats even on a busy machine, short enough to wait for.
        let timed = client.with_options(client.options().clone().timeout(Duration::from_secs(1)));
        let started = Instant::now();
        let mut forever = timed.forever(Number::new(0)).await.unwrap();
        let ended = loop {
            match forever.next().await {
                Some(Ok(_)) => continue,
                Some(Err(status)) => break status,
                None => panic!("an endless stream ended without an error ({protocol:?})"),
            }
        };
        assert_eq!(ended.code(), Code::DeadlineExceeded, "{protocol:?}: {ended}");
        assert!(started.elapsed() < Duration::from_secs(10), "{protocol:?}: ended after {:?}", started.elapsed());
    }
    // A unary call of a streaming method gets a clear refusal.
    let channel = rpc::Channel::connect(addr).await.unwrap();
    let request = rpc::Request::new("test.Numbers", "Count", bytes::Bytes::new());
    let error = tower::ServiceExt::oneshot(channel, request).await.unwrap_err();
    assert_eq!(error.code(), Code::Unimplemented);
    assert!(error.message().contains("streaming method"), "{error}");
}

#[tokio::test]
async fn a_cluster_channel_opens_streams_on_its_endpoints() {
    let ((a, _), (b, _)) = (provider().await, provider().await);
    let channel = rpc::Channel::builder()
        .protocol(Protocol::Grpc)
        .endpoints([a.to_string(), b.to_string()])
        .load_balance(rpc::cluster::Balance::RoundRobin)
        .build()
        .unwrap();
    let client = NumbersClient::new(channel.clone());
    for _ in 0..4 {
        let sum = client.sum(futures_util::stream::iter((1..=10).map(Number::new))).await.unwrap();
        assert_eq!(sum.value, 55);
    }
    let calls: Vec<u64> = channel.endpoints().iter().map(|e| e.calls).collect();
    assert_eq!(calls, [2, 2], "round-robin spreads the streams");
}

#[tokio::test]
async fn a_slow_reader_holds_the_provider_back() {
    for protocol in PROTOCOLS {
        let (addr, numbers) = provider().await;
        let client = client(addr, protocol).await;
        let mut counted = client.count(Number::new(1_000_000)).await.unwrap();
        assert_eq!(counted.next().await.unwrap().unwrap().value, 0);
        // Nobody reads now: the provider stops once the windows are full. Waited for as "no
        // progress for 500 ms" (within 30 s), not a fixed sleep that a busy machine outruns.
        let started = Instant::now();
        let (mut made, mut still_since) = (numbers.produced.load(Ordering::Relaxed), Instant::now());
        while still_since.elapsed() < Duration::from_millis(500) {
            assert!(started.elapsed() < Duration::from_secs(30), "{protocol:?}: the provider never stopped ({made})");
            tokio::time::sleep(Duration::from_millis(50)).await;
            let now = numbers.produced.load(Ordering::Relaxed);
            if now != made {
                (made, still_since) = (now, Instant::now());
            }
        }
        println!("{protocol:?}: produced while the reader slept: {made} of 1000000");
        let bound = match protocol {
            // A window of 256 messages each way (docs/PROTOCOL.md), and one message the
            // provider holds while it waits for credit: 257 measured.
            Protocol::Binary => 2 * 256 + 2,
            // ~9 bytes each: the HTTP/2 stream window (2 MiB) and hyper's send buffer hold
            // about a quarter million (238,501 measured).
            Protocol::Grpc => 300_000,
            other => unreachable!("{other:?} is not in PROTOCOLS: it has no streams"),
        };
        assert!(made <= bound, "{protocol:?}: flow control lets the provider make {made} (at most {bound}) unread");
        // Reading on lets it go on.
        for value in 1..1_000u64 {
            assert_eq!(counted.next().await.unwrap().unwrap().value, value);
        }
    }
}

#[tokio::test]
async fn dropping_the_stream_cancels_the_handler() {
    let (addr, numbers) = provider().await;
    for caller in ["tonic", "rpc-binary", "rpc-grpc"] {
        numbers.forever_dropped.store(false, Ordering::SeqCst);
        if caller == "tonic" {
            let mut grpc = tonic_client(addr).await;
            grpc.ready().await.unwrap();
            let path = PathAndQuery::from_static("/test.Numbers/Forever");
            let mut stream =
                grpc.server_streaming(tonic::Request::new(Number::new(0)), path, codec()).await.unwrap().into_inner();
            for value in 0..10 {
                assert_eq!(stream.message().await.unwrap().unwrap().value, value);
            }
        } else {
            let protocol = if caller == "rpc-binary" { Protocol::Binary } else { Protocol::Grpc };
            let client = client(addr, protocol).await;
            let mut stream = client.forever(Number::new(0)).await.unwrap();
            for value in 0..10 {
                assert_eq!(stream.next().await.unwrap().unwrap().value, value);
            }
        }
        // The stream (and, for tonic, its channel) is dropped here.
        let give_up = Instant::now() + Duration::from_secs(5);
        while !numbers.forever_dropped.load(Ordering::SeqCst) {
            assert!(Instant::now() < give_up, "the provider's stream outlived its caller ({caller})");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[tokio::test]
async fn an_oversized_stream_message_ends_that_stream_only() {
    let bound = rpc::Server::builder()
        .max_frame_size(16 * 1024)
        .add_service(NumbersServer::new(NumbersImpl::default()))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = bound.local_addr().unwrap();
    tokio::spawn(bound.serve());
    for protocol in PROTOCOLS {
        let client = client(addr, protocol).await;
        let big = Number { value: 1, padding: vec![0; 64 * 1024] };
        let mut replies = client.double(futures_util::stream::iter([big])).await.unwrap();
        let error = match replies.next().await {
            Some(Ok(reply)) => panic!("an oversized message was answered: {}", reply.value),
            Some(Err(status)) => status,
            None => panic!("the stream ended without an error ({protocol:?})"),
        };
        assert_eq!(error.code(), Code::ResourceExhausted, "{protocol:?}: {error}");
        let sum = client.sum(futures_util::stream::iter((1..=3).map(Number::new))).await.unwrap();
        assert_eq!(sum.value, 6, "the connection still serves ({protocol:?})");
    }
}

/// test.Numbers as tonic serves it (Count, Sum, Double), written out as tonic-build would.
mod tonic_numbers {
    use std::convert::Infallible;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use futures_util::{Stream, StreamExt};
    use tonic::body::Body;
    use tonic::codegen::http;
    use tonic_prost::ProstCodec;

    use super::Number;

    type Replies = Pin<Box<dyn Stream<Item = Result<Number, tonic::Status>> + Send>>;

    #[derive(Clone)]
    pub struct Numbers;

    impl tonic::server::NamedService for Numbers {
        const NAME: &'static str = "test.Numbers";
    }

    impl tower::Service<http::Request<Body>> for Numbers {
        type Response = http::Response<Body>;
        type Error = Infallible;
        type Future = tonic::codegen::BoxFuture<Self::Response, Infallible>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: http::Request<Body>) -> Self::Future {
            Box::pin(async move {
                let mut grpc = tonic::server::Grpc::new(ProstCodec::<Number, Number>::default());
                Ok(match request.uri().path() {
                    "/test.Numbers/Count" => {
                        let count = tower::service_fn(|request: tonic::Request<Number>| async move {
                            let upto = request.into_inner().value;
                            let replies: Replies =
                                Box::pin(futures_util::stream::iter((0..upto).map(|v| Ok(Number::new(v * 10)))));
                            Ok::<_, tonic::Status>(tonic::Response::new(replies))
                        });
                        grpc.server_streaming(count, request).await
                    }
                    "/test.Numbers/Sum" => {
                        let sum = tower::service_fn(|request: tonic::Request<tonic::Streaming<Number>>| async move {
                            let mut numbers = request.into_inner();
                            let mut sum = 0;
                            while let Some(number) = numbers.message().await? {
                                sum += number.value;
                            }
                            Ok::<_, tonic::Status>(tonic::Response::new(Number::new(sum + 1_000)))
                        });
                        grpc.client_streaming(sum, request).await
                    }
                    "/test.Numbers/Double" => {
                        let double =
                            tower::service_fn(|request: tonic::Request<tonic::Streaming<Number>>| async move {
                                let replies: Replies =
                                    Box::pin(request.into_inner().map(|n| n.map(|n| Number::new(n.value * 2))));
                                Ok::<_, tonic::Status>(tonic::Response::new(replies))
                            });
                        grpc.streaming(double, request).await
                    }
                    _ => tonic::Status::unimplemented("no such method").into_http(),
                })
            })
        }
    }

    pub async fn serve() -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let incoming = tonic::transport::server::TcpIncoming::from(listener);
        tokio::spawn(tonic::transport::Server::builder().add_service(Numbers).serve_with_incoming(incoming));
        addr
    }
}

#[tokio::test]
async fn the_generated_client_streams_with_a_tonic_server() {
    let addr = tonic_numbers::serve().await;
    let client = client(addr, Protocol::Grpc).await;
    let counted: Vec<u64> = client.count(Number::new(4)).await.unwrap().map(|n| n.unwrap().value).collect().await;
    assert_eq!(counted, [0, 10, 20, 30], "tonic's server stream");
    let sum = client.sum(futures_util::stream::iter((1..=10).map(Number::new))).await.unwrap();
    assert_eq!(sum.value, 1_055, "tonic's client-streaming answer");
    let doubled: Vec<u64> = client
        .double(futures_util::stream::iter((1..=5).map(Number::new)))
        .await
        .unwrap()
        .map(|n| n.unwrap().value)
        .collect()
        .await;
    assert_eq!(doubled, [2, 4, 6, 8, 10], "tonic's bidirectional stream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_stops_reading_stops_the_caller() {
    let (addr, _numbers) = provider().await;
    for protocol in PROTOCOLS {
        let client = client(addr, protocol).await;
        // An endless caller stream whose first value the provider refuses.
        let endless =
            futures_util::stream::iter([Number::new(POISON)]).chain(futures_util::stream::repeat(Number::new(1)));
        let refused = tokio::time::timeout(Duration::from_secs(10), client.sum(endless))
            .await
            .expect("the call ends though the caller's stream does not")
            .unwrap_err();
        assert_eq!(refused.code(), Code::OutOfRange, "{protocol:?}");
        // The connection is still good for the next call.
        let sum = client.sum(futures_util::stream::iter((1..=3).map(Number::new))).await.unwrap();
        assert_eq!(sum.value, 6, "{protocol:?}");
    }
}

#[tokio::test]
async fn a_connection_may_not_open_streams_without_end() {
    let numbers = NumbersImpl::default();
    let mut config = rpc::server::ServerConfig::default();
    config.binary.max_concurrent_streams = 8;
    let bound = rpc::Server::builder()
        .add_service(NumbersServer::new(numbers.clone()))
        .config(config)
        .bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = bound.local_addr().unwrap();
    tokio::spawn(bound.serve());
    let client = client(addr, Protocol::Binary).await;
    let mut open = Vec::new();
    for _ in 0..8 {
        let mut stream = client.forever(Number::new(0)).await.unwrap();
        assert_eq!(stream.next().await.unwrap().unwrap().value, 0);
        open.push(stream);
    }
    // One more on the same connection is refused, not run; the others go on.
    let refused = match client.forever(Number::new(0)).await {
        Err(status) => status,
        Ok(mut stream) => stream.next().await.expect("an end").expect_err("refused"),
    };
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(refused.message().contains("8 streams already open"), "{refused:?}");
    for stream in &mut open {
        assert!(stream.next().await.unwrap().is_ok());
    }
    // Once one ends, another may open.
    drop(open.pop());
    let give_up = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(mut stream) = client.forever(Number::new(0)).await {
            if let Some(Ok(number)) = stream.next().await {
                assert_eq!(number.value, 0);
                break;
            }
        }
        assert!(Instant::now() < give_up, "no stream opened after one ended");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
