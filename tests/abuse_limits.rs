//! Peers that misbehave on purpose, over loopback with raw bytes: connections that say
//! (almost) nothing are closed within the idle timeout on every protocol, so they cannot hold
//! connections (and file descriptors) without end; a flood of connections that break the
//! protocol writes a few log lines a second, not one each; request bodies that never end
//! are given up within the idle timeout, over HTTP/2 and HTTP/1.1.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const IDLE: Duration = Duration::from_secs(1);
/// Generous: the close is due within the idle timeout (plus a ping's round), this is 10×.
const CLOSED_WITHIN: Duration = Duration::from_secs(10);

/// Sends `first_bytes`, then reads (and drops) whatever the provider sends until it closes
/// the connection; how long that took.
async fn time_to_close(server: &TestServer, first_bytes: &[u8]) -> Duration {
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    stream.write_all(first_bytes).await.expect("write");
    let started = Instant::now();
    let mut sink = [0u8; 4096];
    let closed = tokio::time::timeout(CLOSED_WITHIN, async {
        loop {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "still open {CLOSED_WITHIN:?} after {:?}", String::from_utf8_lossy(first_bytes));
    started.elapsed()
}

#[tokio::test]
async fn silent_connections_are_closed_within_the_idle_timeout_on_every_protocol() {
    let server = TestServer::start_with(|b| b.idle_timeout(IDLE)).await;
    let cases: [(&str, &[u8]); 5] = [
        ("nothing", b""),
        ("one byte of HTTP", b"P"),
        ("the HTTP/2 preface, then nothing", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
        ("half an HTTP/1.1 request head", b"POST /demo.Echo/echo HTTP/1.1\r\nHost: x\r\n"),
        ("a binary-protocol magic, then nothing", &[0xD8, 0xB5]),
    ];
    for (case, bytes) in cases {
        let took = time_to_close(&server, bytes).await;
        assert!(took >= IDLE / 2, "{case}: closed after {took:?}, before it could be idle");
    }
    // The provider still serves everyone else.
    let client = server.client().await;
    assert_eq!(client.echo("still here".into()).await.unwrap(), "still here");
}

/// Log output kept in memory, to count lines.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_flood_of_bad_connections_writes_a_few_lines_a_second() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .try_init()
        .expect("the only subscriber of this test binary");
    let server = TestServer::start().await;
    // The binary protocol's magic, then a header of a version nobody speaks.
    let mut bad = vec![0xD8, 0xB5, 0x63];
    bad.resize(24, 0);
    let started = Instant::now();
    let connections = 500;
    for _ in 0..connections {
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        stream.write_all(&bad).await.expect("write");
        let mut sink = [0u8; 64];
        // The provider closes it (a protocol error).
        let _ = tokio::time::timeout(CLOSED_WITHIN, stream.read(&mut sink)).await.expect("closed");
    }
    let seconds = started.elapsed().as_secs() + 1;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines = text.lines().filter(|line| line.contains("protocol error")).count();
    assert!(lines >= 1, "the first is logged:\n{text}");
    assert!(lines as u64 <= 10 * (seconds + 1), "{lines} lines for {connections} connections in {seconds} s");
    let client = server.client().await;
    assert_eq!(client.echo("still here".into()).await.unwrap(), "still here");
}

#[tokio::test]
async fn request_bodies_that_never_end_are_given_up_within_the_idle_timeout() {
    use http_body_util::StreamBody;
    use hyper::body::Frame;
    use hyper_util::rt::{TokioExecutor, TokioIo};

    let server = TestServer::start_with(|b| b.idle_timeout(IDLE)).await;
    // HTTP/2: 16 calls, each announcing a 7 MiB message, sending 1 KiB of it, then nothing.
    let stream = TcpStream::connect(server.addr).await.expect("connect");
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(connection);
    let mut stalled = Vec::new();
    let mut replies = Vec::new();
    for _ in 0..16 {
        let (body_sender, body) =
            tokio::sync::mpsc::channel::<Result<Frame<bytes::Bytes>, std::convert::Infallible>>(1);
        let mut start = vec![0u8];
        start.extend_from_slice(&(7u32 << 20).to_be_bytes());
        start.resize(5 + 1024, 0);
        body_sender.send(Ok(Frame::data(start.into()))).await.expect("queued");
        stalled.push(body_sender);
        let body = StreamBody::new(Box::pin(futures_util::stream::unfold(body, |mut body| async move {
            body.recv().await.map(|f| (f, body))
        })));
        let request = http::Request::post(format!("http://{}/test.Echo/echo", server.addr))
            .header("content-type", "application/grpc+msgpack")
            .header("te", "trailers")
            .body(body)
            .expect("a request");
        let mut sender = sender.clone();
        replies.push(tokio::spawn(async move { sender.send_request(request).await }));
    }
    let started = Instant::now();
    for reply in replies {
        let reply =
            tokio::time::timeout(CLOSED_WITHIN, reply).await.expect("answered in time").unwrap().expect("a reply");
        let status = reply.headers().get("grpc-status").and_then(|v| v.to_str().ok()).map(str::to_string);
        assert_eq!(status.as_deref(), Some("1"), "CANCELLED: {:?}", reply.headers());
    }
    assert!(started.elapsed() >= IDLE / 2, "given up after {:?}, before the body could be idle", started.elapsed());
    drop(stalled);

    // HTTP/1.1: a head announcing 1,000 bytes of JSON, two of them sent.
    let head = b"POST /test.Echo/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[\"";
    let took = time_to_close(&server, head).await;
    assert!(took >= IDLE / 2, "closed after {took:?}");
    let client = server.client().await;
    assert_eq!(client.echo("still here".into()).await.unwrap(), "still here");
}

#[tokio::test]
async fn a_large_frame_still_arriving_keeps_its_connection() {
    use futures_util::StreamExt;
    use rpc::codec::{Frame, FrameCodec, Inbound, Metadata};

    let server = TestServer::start_with(|b| b.idle_timeout(IDLE)).await;
    let text = "x".repeat(3_000);
    let mut metadata = Metadata::call("test.Echo", "echo");
    metadata.version = "1.0.0".into();
    let mut body = bytes::BytesMut::new();
    <rpc::codec::MsgPack as rpc::codec::Serialization<String>>::serialize(&text, &mut body).unwrap();
    let mut wire = bytes::BytesMut::new();
    tokio_util::codec::Encoder::encode(
        &mut FrameCodec::default(),
        Frame::request(1, metadata, body.freeze()),
        &mut wire,
    )
    .unwrap();
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    // 50 bytes every 50 ms: about 3 s for the frame, three idle timeouts, and never silent
    // for a twentieth of one.
    let started = Instant::now();
    for piece in wire.chunks(50) {
        stream.write_all(piece).await.expect("the connection is still open");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(started.elapsed() > 2 * IDLE, "the upload outlasted the idle timeout");
    let mut replies = tokio_util::codec::FramedRead::new(stream, FrameCodec::default());
    let reply = tokio::time::timeout(CLOSED_WITHIN, replies.next()).await.expect("a reply in time");
    match reply {
        Some(Ok(Inbound::Frame(frame))) => {
            let echoed: String =
                <rpc::codec::MsgPack as rpc::codec::Serialization<String>>::deserialize(&frame.body).unwrap();
            assert_eq!(echoed, text);
        }
        other => panic!("the call was answered, not {other:?}"),
    }
}

/// The bytes of `count` pipelined binary-protocol calls of `blob(len)`: each reply is
/// `len` bytes the client will not read.
fn pipelined_blob_requests(count: u64, len: u32) -> bytes::BytesMut {
    use rpc::codec::{Frame, FrameCodec, Metadata};
    let mut wire = bytes::BytesMut::new();
    for id in 1..=count {
        let mut metadata = Metadata::call("test.Echo", "blob");
        metadata.version = "1.0.0".into();
        let mut body = bytes::BytesMut::new();
        <rpc::codec::MsgPack as rpc::codec::Serialization<u32>>::serialize(&len, &mut body).unwrap();
        tokio_util::codec::Encoder::encode(
            &mut FrameCodec::default(),
            Frame::request(id, metadata, body.freeze()),
            &mut wire,
        )
        .unwrap();
    }
    wire
}

/// Asks for 64 MiB of replies and reads none; then writes a byte now and then. Once the
/// provider gives up on the connection its kernel resets it, and a write fails: how long
/// that took, or `None` if the connection was still open after `limit`.
async fn time_until_reset(server: &TestServer, limit: Duration) -> Option<Duration> {
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    stream.write_all(&pipelined_blob_requests(64, 1024 * 1024)).await.expect("send the calls");
    let started = Instant::now();
    while started.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(100)).await;
        // A heartbeat-sized write: a reset socket refuses it.
        // (A write that times out or succeeds means the connection is still open.)
        if let Ok(Err(_)) = tokio::time::timeout(Duration::from_millis(100), stream.write_all(&[0xD8])).await {
            return Some(started.elapsed());
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_reads_no_replies_is_closed_after_the_write_timeout() {
    let write_timeout = Duration::from_secs(1);
    let server =
        TestServer::start_with(|b| b.write_timeout(write_timeout).idle_timeout(Duration::from_secs(600))).await;
    let closed = time_until_reset(&server, Duration::from_secs(20)).await;
    let closed = closed.expect("a connection whose peer reads nothing is closed");
    assert!(closed >= write_timeout / 2, "closed after {closed:?}, before the write could time out");
    // Everyone else is served.
    let client = server.client().await;
    assert_eq!(client.echo("still here".into()).await.unwrap(), "still here");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_is_not_held_up_by_a_peer_that_reads_nothing() {
    let grace = Duration::from_secs(1);
    let mut server = TestServer::start_with(|b| b.shutdown_grace(grace).write_timeout(Duration::from_secs(600))).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    stream.write_all(&pipelined_blob_requests(64, 1024 * 1024)).await.expect("send the calls");
    // Let the provider fill the socket and block on it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    server.begin_shutdown();
    server.wait_stopped().await;
    let took = started.elapsed();
    assert!(took < grace + Duration::from_secs(10), "the server took {took:?} to stop, grace {grace:?}");
    drop(stream);
}

/// A connection from `ip` (a loopback address) to the server.
async fn connect_from(server: &TestServer, ip: [u8; 4]) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(std::net::SocketAddr::from((ip, 0))).unwrap();
    socket.connect(server.addr).await.expect("connect")
}

/// Whether the server closed `stream` (within 3 s) without a word.
async fn closed_at_once(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    matches!(tokio::time::timeout(Duration::from_secs(3), stream.read(&mut byte)).await, Ok(Ok(0) | Err(_)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limits_are_closed_at_once_and_others_still_get_in() {
    let server = TestServer::start_with(|b| b.max_connections(8, 4).idle_timeout(Duration::from_secs(600))).await;
    // One address takes its four; a fifth from it is turned away.
    let mut hogs = Vec::new();
    for _ in 0..4 {
        hogs.push(connect_from(&server, [127, 0, 0, 1]).await);
    }
    // Let the server count them (accepts are asynchronous).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fifth = connect_from(&server, [127, 0, 0, 1]).await;
    assert!(closed_at_once(&mut fifth).await, "a fifth connection from one address was kept");
    // Another address still gets in, up to the total of eight.
    for _ in 0..4 {
        hogs.push(connect_from(&server, [127, 0, 0, 2]).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut ninth = connect_from(&server, [127, 0, 0, 3]).await;
    assert!(closed_at_once(&mut ninth).await, "a ninth connection was kept");
    // A connection that closes makes room: a client from the first address is served.
    drop(hogs.remove(0));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stream = connect_from(&server, [127, 0, 0, 1]).await;
        let channel = rpc::Channel::builder().connect_io(stream, "127.0.0.1");
        match common::EchoClient::new(channel).echo("room".into()).await {
            Ok(echoed) => break assert_eq!(echoed, "room"),
            Err(e) => assert!(Instant::now() < deadline, "no room after a connection closed: {e:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
