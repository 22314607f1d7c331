//! Serves `helloworld.Greeter` (from greeter.proto) on one port for the binary protocol and
//! gRPC alike: `cargo run -p rpc-example-proto --bin proto-provider -- --addr 127.0.0.1:50051`.

use clap::Parser;
use rpc_example_proto::{GreeterServer, Greetings, FILE_DESCRIPTOR_SET};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "127.0.0.1:50051")]
    addr: String,
    /// Serve the admin port here (e.g. 127.0.0.1:22222): probes, /metrics, /services.
    #[arg(long)]
    admin: Option<String>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let args = Args::parse();
    let mut builder = rpc::Server::builder();
    if let Some(admin) = &args.admin {
        builder = builder.admin(admin);
    }
    let bound = builder
        .layer(rpc::metrics::MetricsLayer::server())
        .grpc_reflection(FILE_DESCRIPTOR_SET)
        .add_service(GreeterServer::new(Greetings::default()))
        .bind(&args.addr)
        .await?;
    println!("helloworld.Greeter listening on {} (binary protocol and gRPC)", bound.local_addr()?);
    if let Some(admin) = bound.admin_addr() {
        println!("admin port on http://{admin}");
    }
    bound.serve_with_shutdown(async { tokio::signal::ctrl_c().await.unwrap_or(()) }).await
}
