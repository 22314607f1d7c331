//! Graceful shutdown: stop accepting, tell clients to go away, finish in-flight calls within
//! the grace period, close.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
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
    // The serve future has returned, and with it went the listener it owned. (Connecting to
    // the port would prove little: once freed, another test may have been given it.)
    server.wait_stopped().await;
}

/// A raw client that ignores go-away: sends `request` after the server began shutting down
/// and returns the server's answer to it.
async fn answer_after_go_away(server: &mut TestServer, request: Frame) -> Frame {
    let mut conn = Framed::new(TcpStream::connect(server.addr).await.unwrap(), FrameCodec::default());
    conn.send(Frame::event(1, EventKind::Heartbeat, true)).await.unwrap();
    match tokio::time::timeout(Duration::from_secs(5), conn.next()).await.expect("a heartbeat reply in time") {
        Some(Ok(Inbound::Frame(reply))) => {
            assert_eq!((reply.event_kind(), reply.request_id), (Some(EventKind::Heartbeat), 1), "{reply:?}");
            assert!(!reply.flags.is_request(), "an answer, not a heartbeat of the server's own");
        }
        other => panic!("expected the heartbeat's answer, got {other:?}"),
    }

    server.begin_shutdown();
    let go_away = match tokio::time::timeout(Duration::from_secs(5), conn.next()).await.unwrap() {
        Some(Ok(Inbound::Frame(frame))) => frame,
        other => panic!("expected go-away, got {other:?}"),
    };
    assert_eq!(go_away.event_kind(), Some(EventKind::GoAway));

    conn.send(request).await.unwrap();
    match tokio::time::timeout(Duration::from_secs(5), conn.next()).await.unwrap() {
        Some(Ok(Inbound::Frame(frame))) => frame,
        other => panic!("expected a reply, got {other:?}"),
    }
}

#[tokio::test]
async fn requests_arriving_after_go_away_are_answered_unavailable_without_running() {
    let mut server = TestServer::start().await;
    let mut metadata = Metadata::call("test.Echo", "sleep_ms");
    metadata.version = "1.0.0".into();
    let answer = answer_after_go_away(&mut server, Frame::request(2, metadata, Bytes::from_static(&[0x01]))).await;
    assert_eq!((answer.request_id, Code::from_u8(answer.status)), (2, Code::Unavailable));
    let why = answer.metadata.attachments.get("rpc.not-run").unwrap_or_default();
    assert!(why.contains("not run"), "the reason travels in the attachment: {why:?}");
    // The request is handed back, for a client that kept neither its metadata nor its body.
    let echoed = &answer.metadata;
    assert_eq!((&*echoed.service, &*echoed.method, &*echoed.version), ("test.Echo", "sleep_ms", "1.0.0"));
    assert_eq!(&answer.body[..], &[0x01]);
    assert_eq!(server.probe.started.load(Ordering::SeqCst), 0);
    server.wait_stopped().await;
}

#[tokio::test]
async fn a_refusal_too_large_to_hand_the_request_back_still_says_it_was_not_run() {
    const LIMIT: usize = 4096;
    let mut server = TestServer::start_with(|b| b.shutdown_grace(Duration::from_secs(5)).max_frame_size(LIMIT)).await;
    // A request a few bytes under the server's limit: handed back with the reason attached, it
    // would be over it.
    let metadata = Metadata::call("test.Echo", "sleep_ms");
    let empty = FrameCodec::default().encoded_len(&Frame::request(3, metadata.clone(), Bytes::new())).unwrap();
    let request = Frame::request(3, metadata, Bytes::from(vec![0x01; LIMIT - 4 - empty]));
    assert_eq!(FrameCodec::default().encoded_len(&request).unwrap(), LIMIT - 4);
    let answer = answer_after_go_away(&mut server, request).await;
    assert_eq!((answer.request_id, Code::from_u8(answer.status)), (3, Code::Unavailable));
    assert!(answer.metadata.attachments.get("rpc.not-run").is_some_and(|why| why.contains("not run")));
    assert!(answer.metadata.service.is_empty() && answer.body.is_empty(), "nothing handed back: {answer:?}");
    assert_eq!(server.probe.started.load(Ordering::SeqCst), 0);
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
