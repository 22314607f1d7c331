//! Every failure gives a precise `Status`, and the server keeps serving afterwards.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use common::{EchoClient, TestServer};
use rpc::{CallOptions, Channel, Code, Request, Status};
use tower::ServiceExt;

async fn raw_call(channel: &Channel, request: Request) -> Result<rpc::Response, Status> {
    channel.clone().oneshot(request).await
}

fn msgpack<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> Bytes {
    let mut body = BytesMut::new();
    <rpc::codec::MsgPack as rpc::codec::Serialization<T>>::serialize(value, &mut body).unwrap();
    body.freeze()
}

fn echo_request(method: &str, body: Bytes) -> Request {
    let mut request = Request::new("test.Echo", method.to_string(), body);
    request.set_version("1.0.0");
    request
}

#[tokio::test]
async fn client_deadline_expires_and_the_provider_cancels_the_call() {
    let server = TestServer::start().await;
    let client = server.client().await.with_options(CallOptions::new().timeout(Duration::from_millis(50)));
    let started = Instant::now();
    let err = client.sleep_ms(2_000).await.unwrap_err();
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err}");
    assert!(started.elapsed() < Duration::from_millis(1_500), "the caller waited {:?}", started.elapsed());
    // Past the moment the handler would have finished had it not been cancelled.
    tokio::time::sleep_until((started + Duration::from_millis(2_500)).into()).await;
    assert_eq!(server.probe.started.load(Ordering::SeqCst), 1);
    assert_eq!(server.probe.finished.load(Ordering::SeqCst), 0, "the provider kept running a call past its deadline");
    // The connection is still good.
    assert_eq!(client.sleep_ms(1).await.unwrap(), 1);
}

#[tokio::test]
async fn a_call_with_an_exhausted_budget_is_refused_before_sending() {
    let server = TestServer::start().await;
    let channel = Channel::connect(server.addr).await.unwrap();
    let mut request = echo_request("sleep_ms", msgpack(&5u64));
    request.set_deadline(Some(Instant::now() - Duration::from_millis(1)));
    let err = raw_call(&channel, request).await.unwrap_err();
    assert_eq!(err.code(), Code::DeadlineExceeded);
    assert!(err.message().contains("before the call was sent"), "{err}");
    assert_eq!(server.probe.started.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn unknown_service_version_and_method_are_named() {
    let server = TestServer::start().await;
    let channel = Channel::connect(server.addr).await.unwrap();

    let err = raw_call(&channel, Request::new("test.Nope", "echo", msgpack(&"x".to_string()))).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(err.message().contains("test.Nope") && err.message().contains("test.Echo:1.0.0"), "{err}");

    let mut wrong_version = echo_request("echo", msgpack(&"x".to_string()));
    wrong_version.set_version("9.9.9");
    assert_eq!(raw_call(&channel, wrong_version).await.unwrap_err().code(), Code::NotFound);

    // No version asked: the service's only version answers.
    let unversioned = Request::new("test.Echo", "echo", msgpack(&"x".to_string()));
    let reply = raw_call(&channel, unversioned).await.unwrap();
    assert_eq!(rmp_decode::<String>(&reply.body), "x");

    let err = raw_call(&channel, echo_request("nope", msgpack(&"x".to_string()))).await.unwrap_err();
    assert_eq!(err.code(), Code::Unimplemented);
    assert!(err.message().contains("\"nope\"") && err.message().contains("echo"), "{err}");
}

#[tokio::test]
async fn wrong_arity_and_types_are_invalid_arguments() {
    let server = TestServer::start().await;
    let channel = Channel::connect(server.addr).await.unwrap();
    // add(a, b) with one argument, with three, with strings, with garbage bytes.
    let bodies = [
        msgpack(&(1i64,)),
        msgpack(&(1i64, 2i64, 3i64)),
        msgpack(&("a".to_string(), "b".to_string())),
        Bytes::from_static(&[0xc1, 0xc1, 0xc1]),
    ];
    for body in bodies {
        let err = raw_call(&channel, echo_request("add", body.clone())).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "body {body:?}: {err}");
        assert!(err.message().contains("test.Echo/add"), "{err}");
    }
    let ok = raw_call(&channel, echo_request("add", msgpack(&(1i64, 2i64)))).await.unwrap();
    let sum: i64 = rmp_decode(&ok.body);
    assert_eq!(sum, 3);
}

fn rmp_decode<T: serde::Serialize + serde::de::DeserializeOwned>(body: &[u8]) -> T {
    <rpc::codec::MsgPack as rpc::codec::Serialization<T>>::deserialize(body).unwrap()
}

#[tokio::test]
async fn a_panicking_handler_is_internal_and_the_server_keeps_serving() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let err = client.panic("kaboom".into()).await.unwrap_err();
    assert_eq!(err.code(), Code::Internal);
    assert!(err.message().contains("handler panicked: kaboom"), "{err}");
    // Same connection, then a new one.
    assert_eq!(client.echo("still here".into()).await.unwrap(), "still here");
    let fresh = server.client().await;
    assert_eq!(fresh.add(1, 1).await.unwrap(), 2);
}

#[tokio::test]
async fn handler_errors_keep_their_code_and_message() {
    let server = TestServer::start().await;
    let client = server.client().await;
    assert_eq!(client.fail("not today".into()).await.unwrap_err(), Status::failed_precondition("not today"));
    assert_eq!(client.add(i64::MAX, 1).await.unwrap_err().code(), Code::OutOfRange);
}

#[tokio::test]
async fn an_oversized_request_is_refused_before_sending_and_the_connection_survives() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let err = client.echo("x".repeat(9 * 1024 * 1024)).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted);
    assert!(err.message().contains("exceeds the maximum frame size of 8388608"), "{err}");
    assert_eq!(client.echo("small".into()).await.unwrap(), "small");
}

#[tokio::test]
async fn the_provider_refuses_a_frame_over_its_limit_and_the_connection_survives() {
    let server = TestServer::start_with(|b| b.max_frame_size(64 * 1024)).await;
    let channel = Channel::builder().max_frame_size(16 * 1024 * 1024).connect(server.addr).await.unwrap();
    let client = EchoClient::new(channel.clone());
    let err = client.echo("y".repeat(200 * 1024)).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err}");
    assert!(err.message().contains("maximum frame size of 65536"), "{err}");
    assert_eq!(client.echo("fits".into()).await.unwrap(), "fits");
    assert!(!channel.connection().expect("direct channel").is_closed());
}

#[tokio::test]
async fn an_oversized_reply_is_refused_on_either_side() {
    // The provider will not send a reply over its own limit.
    let server = TestServer::start_with(|b| b.max_frame_size(64 * 1024)).await;
    let client = server.client().await;
    let err = client.blob(100_000).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted);
    assert!(err.message().contains("reply not sent"), "{err}");
    assert_eq!(client.blob(10).await.unwrap().len(), 10);

    // The consumer refuses a reply over its limit, skipping it without losing the connection.
    let server = TestServer::start().await;
    let channel = Channel::builder().max_frame_size(64 * 1024).connect(server.addr).await.unwrap();
    let client = EchoClient::new(channel);
    let err = client.blob(100_000).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted);
    assert!(err.message().contains("reply refused"), "{err}");
    assert_eq!(client.blob(10).await.unwrap().len(), 10);
}

/// A peer that answers the client's opening heartbeat, then does `then` with the socket:
/// what a provider that fails after connecting looks like.
async fn peer_after_opening<F, Fut>(then: F) -> std::net::SocketAddr
where
    F: FnOnce(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    use futures_util::{SinkExt, StreamExt};
    use rpc::codec::{EventKind, Frame, FrameCodec, Inbound};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let mut framed = tokio_util::codec::Framed::new(socket, FrameCodec::new(1 << 20));
        match framed.next().await {
            Some(Ok(Inbound::Frame(hello))) if hello.event_kind() == Some(EventKind::Heartbeat) => {
                framed.send(Frame::event(hello.request_id, EventKind::Heartbeat, false)).await.unwrap();
            }
            other => panic!("the client opened with {other:?}, not a heartbeat"),
        }
        then(framed.into_inner()).await;
    });
    addr
}

#[tokio::test]
async fn connecting_to_a_closed_port_is_unavailable() {
    // Bound but not listening, and held meanwhile: nobody else can take the port.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap();
    let err = Channel::connect(addr).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    assert!(err.message().contains(&addr.to_string()), "{err}");
}

#[tokio::test]
async fn a_provider_that_drops_the_connection_fails_pending_calls_with_unavailable() {
    let addr = peer_after_opening(|mut socket| async move {
        let mut buf = [0u8; 64];
        let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut buf).await;
        drop(socket);
    })
    .await;
    let client = EchoClient::connect(addr).await.unwrap();
    let err = client.echo("lost".into()).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    // A FIN reads as "closed by the provider", a reset as "connection lost": either names the peer.
    assert!(err.message().contains(&addr.to_string()), "{err}");
    // The dead connection refuses further calls at once.
    assert_eq!(client.echo("again".into()).await.unwrap_err().code(), Code::Unavailable);
}

/// Reads for up to 10 s, never answering anything (not even heartbeats).
async fn read_and_never_answer(mut socket: tokio::net::TcpStream) {
    let mut sink = Vec::new();
    let reading = tokio::io::AsyncReadExt::read_to_end(&mut socket, &mut sink);
    let _ = tokio::time::timeout(Duration::from_secs(10), reading).await;
}

#[tokio::test]
async fn a_peer_that_never_answers_is_not_connected() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { read_and_never_answer(listener.accept().await.unwrap().0).await });
    let started = Instant::now();
    let err = Channel::builder().connect_timeout(Duration::from_millis(300)).connect(addr).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    assert!(err.message().contains("no answer"), "{err}");
    assert!(started.elapsed() >= Duration::from_millis(300), "gave up before the connect timeout");
}

#[tokio::test]
async fn a_silent_peer_is_detected_by_heartbeats() {
    let addr = peer_after_opening(read_and_never_answer).await;
    let channel = Channel::builder().heartbeat_interval(Some(Duration::from_millis(100))).connect(addr).await.unwrap();
    let client = EchoClient::new(channel);
    let started = Instant::now();
    let err = client.echo("anyone?".into()).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    assert!(err.message().contains("presumed dead"), "{err}");
    // Three silent intervals at least; the upper bound leaves seconds for a busy machine.
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(300), "declared dead after {elapsed:?}, under three intervals");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

#[tokio::test]
async fn heartbeats_keep_an_idle_connection_alive_past_the_server_idle_timeout() {
    let server = TestServer::start_with(|b| b.idle_timeout(Duration::from_millis(300))).await;
    let quiet = Channel::builder().heartbeat_interval(None).connect(server.addr).await.unwrap();
    let beating =
        Channel::builder().heartbeat_interval(Some(Duration::from_millis(50))).connect(server.addr).await.unwrap();
    // The quiet one is closed after 300-600 ms; polled, with seconds to spare.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !quiet.connection().expect("direct channel").is_closed() {
        assert!(Instant::now() < deadline, "a connection without heartbeats should idle out");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!beating.connection().expect("direct channel").is_closed());
    assert_eq!(EchoClient::new(beating).echo("alive".into()).await.unwrap(), "alive");
}

#[tokio::test]
async fn arguments_no_serialization_carries_are_refused_unsent() {
    let server = TestServer::start().await;
    // Two arguments travel as a serde tuple, which protobuf cannot carry.
    let protobuf = server.client().await.with_options(CallOptions::new().serialization(rpc::SerializationId::Protobuf));
    let err = protobuf.area(vec![common::Shape::Square(2.0)], None).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err}");
    assert!(err.is_not_sent(), "nothing left the client, and the status says so: {err:?}");
    assert!(
        err.message().contains("arguments of test.Echo/area not sent")
            && err.message().contains("protobuf serialization is not available"),
        "{err}"
    );
    assert_eq!(server.probe.started.load(Ordering::SeqCst), 0);
}
