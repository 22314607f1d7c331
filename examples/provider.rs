//! A provider of `demo.Greeter`: registers in a registry (by default the file registry, so
//! providers and consumers on one host find each other with no setup), serves until Ctrl-C,
//! then deregisters and shuts down gracefully.
//!
//! ```text
//! cargo run --example provider -- --label east          # twice, in two terminals
//! cargo run --example provider -- --registry etcd://127.0.0.1:2379 --addr 127.0.0.1:20880
//! ```

#[path = "greeter/mod.rs"]
mod greeter;

use clap::Parser;
use greeter::{GreeterServer, MyGreeter};

#[derive(Parser)]
#[command(about = "Serve demo.Greeter over the rpc binary protocol")]
struct Args {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: String,
    /// Name this provider signs its replies with.
    #[arg(long, default_value = "provider")]
    label: String,
    /// Where to register: file:///dir, etcd://host:port, zookeeper://host:port, memory://,
    /// static://… ("file://" is the default directory under the system temp dir).
    #[arg(long, default_value = "file://")]
    registry: String,
    /// Share of traffic relative to other providers (100 = normal).
    #[arg(long, default_value_t = 100)]
    weight: u32,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    greeter::init_logging();
    let args = Args::parse();
    let registry = rpc::registry::connect(&args.registry).await?;
    let server = rpc::Server::builder()
        .registry(registry)
        .weight(args.weight)
        .add_service(GreeterServer::new(MyGreeter::new(&args.label)))
        .bind(&args.addr)
        .await?;
    println!("provider {} listening on {}", args.label, server.local_addr()?);
    server
        .serve_with_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    println!("provider {} stopped", args.label);
    Ok(())
}
