//! Serves `helloworld.Greeter` (from greeter.proto) on one port for the binary protocol and
//! gRPC alike: `cargo run -p rpc-example-proto --bin proto-provider -- --addr 127.0.0.1:50051`.

use clap::Parser;
use rpc_example_proto::{GreeterServer, Greetings};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "127.0.0.1:50051")]
    addr: String,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let args = Args::parse();
    let bound = rpc::Server::builder().add_service(GreeterServer::new(Greetings::default())).bind(&args.addr).await?;
    println!("helloworld.Greeter listening on {} (binary protocol and gRPC)", bound.local_addr()?);
    bound.serve_with_shutdown(async { tokio::signal::ctrl_c().await.unwrap_or(()) }).await
}
