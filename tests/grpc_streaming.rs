//! Streaming methods over gRPC: a tonic client against an `rpc` provider (all three kinds),
//! the generated `rpc` client, flow control (a slow reader bounds what the provider makes,
//! a million messages through one bidirectional stream in bounded memory) and cancellation.

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

async fn grpc_client(addr: SocketAddr) -> NumbersClient {
    NumbersClient::new(rpc::Channel::builder().protocol(Protocol::Grpc).connect(addr).await.unwrap())
}

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

#[tokio::test]
async fn the_generated_client_streams_over_grpc() {
    let (addr, _numbers) = provider().await;
    let client = grpc_client(addr).await;
    let counted: Vec<u64> = client.count(Number::new(100)).await.unwrap().map(|n| n.unwrap().value).collect().await;
    assert_eq!(counted, (0..100).collect::<Vec<_>>());
    let sum = client.sum(futures_util::stream::iter((1..=1000).map(Number::new))).await.unwrap();
    assert_eq!(sum.value, 500_500);
    let refused = client.sum(futures_util::stream::iter([Number::new(POISON)])).await.unwrap_err();
    assert_eq!(refused.code(), Code::OutOfRange);
    let mut doubled = client.double(futures_util::stream::iter((0..1000).map(Number::new))).await.unwrap();
    for value in 0..1000u64 {
        assert_eq!(doubled.next().await.unwrap().unwrap().value, value * 2);
    }
    assert!(doubled.next().await.is_none(), "ends after the last reply, with status OK");

    // A unary call of a streaming method, and a stream over the binary protocol: clear refusals.
    let binary = NumbersClient::new(rpc::Channel::connect(addr).await.unwrap());
    let error = binary.count(Number::new(3)).await.unwrap_err();
    assert_eq!(error.code(), Code::Unimplemented);
    assert!(error.message().contains("Protocol::Grpc"), "{error}");
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
    let (addr, numbers) = provider().await;
    let client = grpc_client(addr).await;
    let mut counted = client.count(Number::new(1_000_000)).await.unwrap();
    assert_eq!(counted.next().await.unwrap().unwrap().value, 0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let made = numbers.produced.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let made_later = numbers.produced.load(Ordering::Relaxed);
    println!("produced while the reader slept: {made}, then {made_later}, of 1000000");
    // About 8 bytes each on the wire: the HTTP/2 stream window (2 MiB) holds a quarter million.
    assert!(made < 500_000, "flow control stops the provider: it made {made} while nobody read");
    assert_eq!(made, made_later, "the provider is stalled, not slowed");
    // Reading on lets it go on.
    for value in 1..1_000u64 {
        assert_eq!(counted.next().await.unwrap().unwrap().value, value);
    }
}

#[tokio::test]
async fn dropping_the_stream_cancels_the_handler() {
    let (addr, numbers) = provider().await;
    for tonic_side in [false, true] {
        numbers.forever_dropped.store(false, Ordering::SeqCst);
        if tonic_side {
            let mut grpc = tonic_client(addr).await;
            grpc.ready().await.unwrap();
            let path = PathAndQuery::from_static("/test.Numbers/Forever");
            let mut stream =
                grpc.server_streaming(tonic::Request::new(Number::new(0)), path, codec()).await.unwrap().into_inner();
            for value in 0..10 {
                assert_eq!(stream.message().await.unwrap().unwrap().value, value);
            }
        } else {
            let client = grpc_client(addr).await;
            let mut stream = client.forever(Number::new(0)).await.unwrap();
            for value in 0..10 {
                assert_eq!(stream.next().await.unwrap().unwrap().value, value);
            }
        }
        // The stream (and, for tonic, its channel) is dropped here.
        let give_up = Instant::now() + Duration::from_secs(5);
        while !numbers.forever_dropped.load(Ordering::SeqCst) {
            assert!(Instant::now() < give_up, "the provider's stream outlived its caller (tonic: {tonic_side})");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Peak resident memory of this process, from /proc (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_messages_through_one_bidirectional_stream_in_bounded_memory() {
    const MESSAGES: u64 = 1_000_000;
    const PADDING: usize = 100;
    let (addr, _numbers) = provider().await;
    let client = grpc_client(addr).await;
    let before = peak_rss_kib();
    let started = Instant::now();
    let requests = futures_util::stream::iter(0..MESSAGES).map(|value| Number { value, padding: vec![7; PADDING] });
    let mut replies = client.double(requests).await.unwrap();
    let mut received = 0u64;
    while let Some(reply) = replies.next().await {
        let reply = reply.unwrap();
        assert_eq!(reply.value, received * 2);
        received += 1;
    }
    let elapsed = started.elapsed();
    let growth_kib = peak_rss_kib().saturating_sub(before);
    println!(
        "{received} messages of {PADDING} B each way in {elapsed:?} ({:.0} msg/s); peak RSS grew {growth_kib} KiB",
        received as f64 / elapsed.as_secs_f64()
    );
    assert_eq!(received, MESSAGES);
    // Buffering the stream would take over 100 MB each way; flow control keeps it to windows.
    assert!(growth_kib < 64 * 1024, "peak RSS grew {growth_kib} KiB");
}
