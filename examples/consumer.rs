//! A consumer of `demo.Greeter`: finds the providers in a registry (by default the file
//! registry) and spreads its calls over them, or calls one provider given by `--addr`.
//!
//! ```text
//! cargo run --example consumer -- --name world --count 4
//! cargo run --example consumer -- --addr 127.0.0.1:20880 --serialization json
//! cargo run --example consumer -- --tls-ca ca.pem --tls-cert client.pem --tls-key client.key
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
    /// Call this provider directly instead of discovering providers.
    #[arg(long)]
    addr: Option<String>,
    /// Where to discover providers (see the provider's --registry).
    #[arg(long, default_value = "file://")]
    registry: String,
    #[arg(long, default_value = "world")]
    name: String,
    /// How many greetings to ask for.
    #[arg(long, default_value_t = 3)]
    count: u32,
    /// Serialization of the calls: msgpack or json.
    #[arg(long, default_value = "msgpack")]
    serialization: String,
    /// Connect over TLS, verifying providers against the CAs in this PEM file.
    #[arg(long)]
    tls_ca: Option<std::path::PathBuf>,
    /// Present this certificate chain (PEM) to providers that ask (mutual TLS).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
}

/// The TLS settings the flags ask for: with a CA or a certificate (then the system's roots
/// verify providers unless --tls-ca names a CA).
fn client_tls(args: &Args) -> std::io::Result<Option<rpc::tls::ClientTls>> {
    let mut tls = match (&args.tls_ca, &args.tls_cert) {
        (None, None) => return Ok(None),
        (Some(ca), _) => rpc::tls::ClientTls::with_ca_file(ca),
        (None, Some(_)) => rpc::tls::ClientTls::with_system_roots(),
    };
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        tls = tls.client_cert(cert, key);
    }
    tls.build().map(Some)
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
    let mut builder = Channel::builder().timeout(Duration::from_secs(2));
    if let Some(tls) = client_tls(&args)? {
        builder = builder.tls(tls);
    }
    let channel = match &args.addr {
        Some(addr) => builder.connect(addr).await?,
        None => {
            let registry = rpc::registry::connect(&args.registry).await?;
            let channel = builder
                .registry(registry, &greeter::GREETER_DESCRIPTOR)
                .load_balance(rpc::cluster::Balance::RoundRobin)
                .build()?;
            if let Some(directory) = channel.directory() {
                directory.discovered(Duration::from_secs(5)).await;
            }
            let providers: Vec<String> = channel.endpoints().into_iter().map(|e| e.address).collect();
            println!("found {} provider(s) in {}: {}", providers.len(), args.registry, providers.join(", "));
            channel
        }
    };
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
