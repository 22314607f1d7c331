//! Graceful shutdown: stop accepting, tell clients to go away, finish in-flight calls within
//! the grace period, close.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::TestServer;
use futures_util::{SinkExt, StreamExt};
use rpc::codec::{EventKind, Frame, FrameCodec, Inbound, Metadata};
use rpc::Code;
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

async fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test]
async fn in_flight_calls_finish_and_new_calls_are_refused_unsent() {
    let mut server = TestServer::start().await;
    let client = server.client().await;
    let in_flight = tokio::spawn({
        let client = client.clone();
        async move { client.sleep_ms(400).await }
    });
    let probe = server.probe.clone();
    wait_until("the slow call runs", || probe.started.load(Ordering::SeqCst) == 1).await;

    server.begin_shutdown();
    // The go-away event reaches the client, which then refuses to send on this connection.
    let channel = client.clone().into_inner();
    wait_until("the client hears go-away", || !channel.connection().expect("direct channel").is_ready()).await;
    let refused = client.echo("late".into()).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable);
    assert!(refused.message().contains("shutting down; call not sent"), "{refused}");

    assert_eq!(in_flight.await.unwrap().unwrap(), 400, "the in-flight call must complete");
    server.wait_stopped().await;
    // Stopped: nothing listens any more.
    assert!(TcpStream::connect(server.addr).await.is_err());
}

#[tokio::test]
async fn requests_arriving_after_go_away_are_answered_unavailable_without_running() {
    let mut server = TestServer::start().await;
    // A raw client that ignores go-away and keeps sending.
    let mut conn = Framed::new(TcpStream::connect(server.addr).await.unwrap(), FrameCodec::default());
    conn.send(Frame::event(1, EventKind::Heartbeat, true)).await.unwrap();
    assert!(matches!(conn.next().await, Some(Ok(Inbound::Frame(_)))));

    server.begin_shutdown();
    let go_away = match tokio::time::timeout(Duration::from_secs(5), conn.next()).await.unwrap() {
        Some(Ok(Inbound::Frame(frame))) => frame,
        other => panic!("expected go-away, got {other:?}"),
    };
    assert_eq!(go_away.event_kind(), Some(EventKind::GoAway));

    let mut metadata = Metadata::call("test.Echo", "sleep_ms");
    metadata.version = "1.0.0".into();
    conn.send(Frame::request(2, metadata, bytes::Bytes::from_static(&[0x01]))).await.unwrap();
    let answer = match tokio::time::timeout(Duration::from_secs(5), conn.next()).await.unwrap() {
        Some(Ok(Inbound::Frame(frame))) => frame,
        other => panic!("expected a reply, got {other:?}"),
    };
    assert_eq!((answer.request_id, Code::from_u8(answer.status)), (2, Code::Unavailable));
    assert!(String::from_utf8_lossy(&answer.body).contains("not run"));
    assert_eq!(answer.metadata.attachments.get("rpc.not-run"), Some("1"));
    // The request's metadata is echoed, for a client that kept only the body to rebuild it.
    let echoed = &answer.metadata;
    assert_eq!((&*echoed.service, &*echoed.method, &*echoed.version), ("test.Echo", "sleep_ms", "1.0.0"));
    assert_eq!(server.probe.started.load(Ordering::SeqCst), 0);

    drop(conn);
    server.wait_stopped().await;
}

#[tokio::test]
async fn the_grace_period_bounds_shutdown() {
    let mut server = TestServer::start_with(|b| b.shutdown_grace(Duration::from_millis(300))).await;
    let client = server.client().await;
    let stuck = tokio::spawn({
        let client = client.clone();
        async move { client.sleep_ms(10_000).await }
    });
    let probe = server.probe.clone();
    wait_until("the long call runs", || probe.started.load(Ordering::SeqCst) == 1).await;
    let started = Instant::now();
    server.begin_shutdown();
    server.wait_stopped().await;
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(250) && took < Duration::from_secs(3), "shutdown took {took:?}");
    let err = stuck.await.unwrap().unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err}");
}
