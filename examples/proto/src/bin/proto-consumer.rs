//! Calls `helloworld.Greeter` with the client generated from greeter.proto, over gRPC (the
//! default here) or the binary protocol:
//! `cargo run -p rpc-example-proto --bin proto-consumer -- --addr 127.0.0.1:50051 --name ada`.

use clap::Parser;
use rpc::Protocol;
use rpc_example_proto::{GreeterClient, HelloRequest};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "127.0.0.1:50051")]
    addr: String,
    #[arg(long, default_value = "world")]
    name: String,
    /// Use the binary protocol instead of gRPC.
    #[arg(long)]
    binary: bool,
}

#[tokio::main]
async fn main() -> Result<(), rpc::Status> {
    let args = Args::parse();
    let protocol = if args.binary { Protocol::Binary } else { Protocol::Grpc };
    let channel = rpc::Channel::builder().protocol(protocol).connect(&args.addr).await?;
    let client = GreeterClient::new(channel);
    let reply = client.say_hello(HelloRequest { name: args.name.clone() }).await?;
    let count = client.count_letters(HelloRequest { name: args.name }).await?;
    println!(
        "{} ({} letters; call {} to CountLetters) via {protocol:?}",
        reply.message, count.letters, count.calls_so_far
    );
    let names = ["ada", "grace", "barbara"].map(|name| HelloRequest { name: name.into() });
    let mut replies = client.chat(futures_util::stream::iter(names)).await?;
    while let Some(reply) = futures_util::StreamExt::next(&mut replies).await {
        println!("chat: {}", reply?.message);
    }
    Ok(())
}
