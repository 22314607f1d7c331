//! Bytes a well-behaved client would never send, written straight to the socket: each gets a
//! precise status or a clean close, and the server keeps serving other connections.

mod common;

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use common::TestServer;
use futures_util::{SinkExt, StreamExt};
use rpc::codec::{EventKind, Flags, Frame, FrameCodec, Inbound, Metadata, MAGIC, VERSION};
use rpc::Code;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

fn echo_frame(id: u64, text: &str) -> Frame {
    let mut metadata = Metadata::call("test.Echo", "echo");
    metadata.version = "1.0.0".into();
    let mut body = BytesMut::new();
    <rpc::codec::MsgPack as rpc::codec::Serialization<String>>::serialize(&text.to_string(), &mut body).unwrap();
    Frame::request(id, metadata, body.freeze())
}

fn encoded(frame: Frame) -> BytesMut {
    let mut wire = BytesMut::new();
    tokio_util::codec::Encoder::encode(&mut FrameCodec::default(), frame, &mut wire).unwrap();
    wire
}

/// A request header written by hand, so its lengths can lie.
fn raw_request_header(id: u64, metadata_len: u32, body_len: u32) -> BytesMut {
    let mut header = BytesMut::new();
    header.put_u16(MAGIC);
    header.put_u8(VERSION);
    header.put_u8(Flags::REQUEST.bits());
    header.put_slice(&[1, 0, 0, 0]);
    header.put_u64(id);
    header.put_u32(metadata_len);
    header.put_u32(body_len);
    header
}

async fn framed(server: &TestServer) -> Framed<TcpStream, FrameCodec> {
    Framed::new(TcpStream::connect(server.addr).await.unwrap(), FrameCodec::default())
}

async fn reply(conn: &mut Framed<TcpStream, FrameCodec>) -> Frame {
    match tokio::time::timeout(Duration::from_secs(5), conn.next()).await.expect("reply in time") {
        Some(Ok(Inbound::Frame(frame))) => frame,
        other => panic!("expected a frame, got {other:?}"),
    }
}

/// Reads until the server closes the connection; fails if it does not within 5 s.
async fn expect_closed(mut socket: TcpStream) {
    let mut buf = vec![0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buf)).await.expect("server closes in time")
        {
            Ok(0) | Err(_) => return,
            Ok(_) => continue,
        }
    }
}

async fn still_serving(server: &TestServer) {
    let client = server.client().await;
    assert_eq!(client.echo("ok".into()).await.unwrap(), "ok");
}

#[tokio::test]
async fn garbage_bytes_close_the_connection_only() {
    let server = TestServer::start().await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket.write_all(b"\x00\x01 no protocol starts like this, and more garbage to fill a header").await.unwrap();
    expect_closed(socket).await;
    still_serving(&server).await;
}

#[tokio::test]
async fn unknown_magic_or_version_closes_the_connection() {
    let server = TestServer::start().await;
    let wire = encoded(echo_frame(1, "x"));

    let mut bad_magic = wire.clone();
    bad_magic[0..2].copy_from_slice(&0xBEEFu16.to_be_bytes());
    let mut bad_version = wire.clone();
    bad_version[2] = VERSION + 1;
    for bytes in [bad_magic, bad_version] {
        let mut socket = TcpStream::connect(server.addr).await.unwrap();
        socket.write_all(&bytes).await.unwrap();
        expect_closed(socket).await;
    }
    still_serving(&server).await;
}

#[tokio::test]
async fn a_half_written_frame_then_disconnect_harms_nothing() {
    let server = TestServer::start().await;
    let wire = encoded(echo_frame(1, "half"));
    for cut in [3, 24, wire.len() - 1] {
        let mut socket = TcpStream::connect(server.addr).await.unwrap();
        socket.write_all(&wire[..cut]).await.unwrap();
        drop(socket);
    }
    still_serving(&server).await;
    // Nothing of those connections lingers: a graceful shutdown, which waits (up to its 5 s
    // grace) for every connection task, ends as soon as the one good connection is gone.
    let started = std::time::Instant::now();
    server.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(4), "shutdown waited {:?} for connections", started.elapsed());
}

#[tokio::test]
async fn a_huge_declared_length_is_answered_without_buffering_it() {
    let server = TestServer::start().await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    // Header declaring a 4 GiB body, then only a few bytes of it.
    let mut header = raw_request_header(77, 0, u32::MAX);
    header.put_slice(&[0u8; 100]);
    socket.write_all(&header).await.unwrap();
    let mut conn = Framed::new(socket, FrameCodec::default());
    let frame = reply(&mut conn).await;
    assert_eq!(frame.request_id, 77);
    assert_eq!(Code::from_u8(frame.status), Code::ResourceExhausted);
    assert!(String::from_utf8_lossy(&frame.body).contains("exceeds the maximum frame size"));
    still_serving(&server).await;
}

#[tokio::test]
async fn unknown_serialization_id_and_bad_metadata_are_invalid_arguments() {
    let server = TestServer::start().await;
    let mut conn = framed(&server).await;

    let mut frame = echo_frame(5, "x");
    frame.serialization = 99;
    conn.send(frame).await.unwrap();
    let answer = reply(&mut conn).await;
    assert_eq!((answer.request_id, Code::from_u8(answer.status)), (5, Code::InvalidArgument));
    assert!(String::from_utf8_lossy(&answer.body).contains("unknown serialization id 99"));

    // A frame whose metadata section is malformed (a string length past its end).
    let mut raw = raw_request_header(6, 4, 0);
    raw.put_slice(&[0, 200, b'a', b'b']);
    conn.get_mut().write_all(&raw).await.unwrap();
    let answer = reply(&mut conn).await;
    assert_eq!((answer.request_id, Code::from_u8(answer.status)), (6, Code::InvalidArgument));
    assert!(String::from_utf8_lossy(&answer.body).contains("malformed metadata"));

    // The same connection still serves a good request.
    conn.send(echo_frame(7, "fine")).await.unwrap();
    let answer = reply(&mut conn).await;
    assert_eq!((answer.request_id, answer.status), (7, 0));
}

#[tokio::test]
async fn a_request_whose_deadline_passed_in_transit_is_not_run() {
    let server = TestServer::start().await;
    let mut conn = framed(&server).await;
    let mut metadata = Metadata::call("test.Echo", "sleep_ms");
    metadata.timeout = Some(Duration::from_micros(1));
    let body = Bytes::from_static(&[0x05]); // msgpack 5
    conn.send(Frame::request(9, metadata, body)).await.unwrap();
    let answer = reply(&mut conn).await;
    assert_eq!(Code::from_u8(answer.status), Code::DeadlineExceeded);
    assert!(String::from_utf8_lossy(&answer.body).contains("not run"));
    assert_eq!(server.probe.started.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn heartbeats_are_answered_and_responses_sent_to_a_server_ignored() {
    let server = TestServer::start().await;
    let mut conn = framed(&server).await;
    conn.send(Frame::response(3, 1, 0, Bytes::new())).await.unwrap();
    conn.send(Frame::event(11, EventKind::Heartbeat, true)).await.unwrap();
    let answer = reply(&mut conn).await;
    assert_eq!(answer.event_kind(), Some(EventKind::Heartbeat));
    assert!(!answer.flags.is_request());
    assert_eq!(answer.request_id, 11);
}

#[tokio::test]
async fn an_http1_request_is_answered_in_http1_not_taken_for_http2() {
    // HTTP/1.1's POST starts with HTTP/2's `P`; the whole preface tells them apart, and an
    // HTTP/1.1 request is Triple's REST form: a gRPC content type there is refused with 415.
    let server = TestServer::start().await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    let request =
        "POST /test.Echo/echo HTTP/1.1\r\nHost: x\r\ncontent-type: application/grpc\r\ncontent-length: 0\r\n\r\n";
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut head = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(5), socket.read_exact(&mut head)).await.unwrap().unwrap();
    assert_eq!(&head, b"HTTP/1.1 415");
    still_serving(&server).await;
}

#[tokio::test]
async fn a_request_whose_first_bytes_arrive_one_at_a_time_is_served() {
    // The protocol is told from the first two bytes; each arrives in a write of its own.
    let server = TestServer::start().await;
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket.set_nodelay(true).unwrap();
    let wire = encoded(echo_frame(7, "slowly"));
    for byte in &wire[..3] {
        socket.write_all(&[*byte]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    socket.write_all(&wire[3..]).await.unwrap();
    let mut conn = Framed::new(socket, FrameCodec::default());
    let answer = reply(&mut conn).await;
    assert_eq!((answer.request_id, answer.status), (7, Code::Ok as u8));
}
