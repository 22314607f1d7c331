//! Peers that connect and then say (almost) nothing: each protocol closes them within the
//! idle timeout, so they cannot hold connections (and file descriptors) without end. Each
//! case writes raw bytes over loopback to a provider whose idle timeout is 1 s.

mod common;

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
