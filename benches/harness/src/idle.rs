//! Memory per idle connection: open many connections to a server process, make one call on
//! each so its buffers exist, and divide the growth of its resident memory.

use std::time::Duration;

use bytes::Bytes;

use crate::process::ServerProcess;
use crate::systems::{Client, System};

pub async fn measure(system: System, connections: usize, server_cpu: Option<usize>) -> Result<(), String> {
    let server = ServerProcess::start(system, server_cpu)?;
    // One connection first, so one-time costs (runtime, first buffers) are not counted.
    let first = Client::connect(system, server.addr).await?;
    first.echo(&Bytes::from_static(b"warm")).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = server.rss_bytes().ok_or("cannot read the server's memory")?;

    let mut clients = Vec::with_capacity(connections);
    for i in 0..connections {
        let client = Client::connect(system, server.addr).await.map_err(|e| format!("connection {i}: {e}"))?;
        client.echo(&Bytes::from_static(b"hello")).await?;
        clients.push(client);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = server.rss_bytes().ok_or("cannot read the server's memory")?;
    let per_connection = after.saturating_sub(before) as f64 / connections as f64;
    println!(
        "{}: {connections} idle connections: server RSS {:.1} MiB -> {:.1} MiB, {:.1} KiB per connection",
        system.name(),
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
        per_connection / 1024.0
    );
    drop(clients);
    Ok(())
}
