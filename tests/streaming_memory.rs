//! A million messages through one bidirectional stream, over each protocol, with the peak
//! RSS growth reported. The peak is reset before each protocol's run (`/proc/self/clear_refs`),
//! so each is measured on its own; this is the only test in the binary, so no other test's
//! allocations count.

mod common;

use std::time::Instant;

use common::numbers::{Number, NumbersClient, NumbersImpl, NumbersServer};
use futures_util::StreamExt;
use rpc::Protocol;

/// Resets the peak resident memory to what is resident now (Linux 4.0 and later).
fn reset_peak_rss() {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM through /proc/self/clear_refs");
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
    let bound = rpc::Server::builder()
        .add_service(NumbersServer::new(NumbersImpl::default()))
        .bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = bound.local_addr().unwrap();
    tokio::spawn(bound.serve());
    for protocol in [Protocol::Binary, Protocol::Grpc] {
        let channel = rpc::Channel::builder().protocol(protocol).connect(addr).await.unwrap();
        let client = NumbersClient::new(channel);
        reset_peak_rss();
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
            "{protocol:?}: {received} messages of {PADDING} B each way in {elapsed:?} ({:.0} msg/s); peak RSS grew {growth_kib} KiB",
            received as f64 / elapsed.as_secs_f64()
        );
        assert_eq!(received, MESSAGES);
        // Buffering the stream would take over 100 MB each way; flow control keeps it to the
        // windows (measured: under 1 MiB binary, about 3 MiB gRPC, whose windows are 2 MiB).
        assert!(growth_kib < 16 * 1024, "{protocol:?}: peak RSS grew {growth_kib} KiB");
    }
}
