//! A provider of `demo.Greeter`. Serves until Ctrl-C, then shuts down gracefully.
//!
//! ```text
//! cargo run --example provider -- --addr 127.0.0.1:20880 --label east
//! ```

#[path = "greeter/mod.rs"]
mod greeter;

use clap::Parser;
use greeter::{GreeterServer, MyGreeter};

#[derive(Parser)]
#[command(about = "Serve demo.Greeter over the rpc binary protocol")]
struct Args {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:20880")]
    addr: String,
    /// Name this provider signs its replies with.
    #[arg(long, default_value = "provider")]
    label: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    greeter::init_logging();
    let args = Args::parse();
    let server =
        rpc::Server::builder().add_service(GreeterServer::new(MyGreeter::new(&args.label))).bind(&args.addr).await?;
    println!("provider {} listening on {}", args.label, server.local_addr()?);
    server
        .serve_with_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    println!("provider {} stopped", args.label);
    Ok(())
}
