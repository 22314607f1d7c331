//! A consumer of `demo.Greeter`: connects to a provider and prints its replies.
//!
//! ```text
//! cargo run --example consumer -- --addr 127.0.0.1:20880 --name world --count 3
//! ```

#[path = "greeter/mod.rs"]
mod greeter;

use std::time::Duration;

use clap::Parser;
use greeter::GreeterClient;
use rpc::{CallOptions, Channel, SerializationId};

#[derive(Parser)]
#[command(about = "Call demo.Greeter over the rpc binary protocol")]
struct Args {
    /// The provider's address.
    #[arg(long, default_value = "127.0.0.1:20880")]
    addr: String,
    #[arg(long, default_value = "world")]
    name: String,
    /// How many greetings to ask for.
    #[arg(long, default_value_t = 3)]
    count: u32,
    /// Serialization of the calls: msgpack or json.
    #[arg(long, default_value = "msgpack")]
    serialization: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    greeter::init_logging();
    let args = Args::parse();
    let serialization = match args.serialization.as_str() {
        "msgpack" => SerializationId::MsgPack,
        "json" => SerializationId::Json,
        other => return Err(format!("unknown serialization {other:?} (msgpack or json)").into()),
    };
    let channel = Channel::builder().timeout(Duration::from_secs(2)).connect(&args.addr).await?;
    let options = CallOptions::new().serialization(serialization).attachment("from", "consumer");
    let client = GreeterClient::new(channel).with_options(options);
    for _ in 0..args.count {
        println!("{}", client.hello(args.name.clone()).await?);
    }
    for id in [1, 7] {
        match client.lookup(id).await {
            Ok(user) => println!("lookup({id}) = {} <{}>", user.name, user.email),
            Err(status) => println!("lookup({id}) failed: {status}"),
        }
    }
    Ok(())
}
