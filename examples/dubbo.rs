//! Joining a Dubbo estate: a Rust provider of Dubbo's sample interface
//! `org.apache.dubbo.samples.api.GreetingsService` (`String sayHi(String)`,
//! `int add(int, int)`), in Hessian2, registered where Java and Python Dubbo consumers look
//! (`tri://`, `dubbo://` and `rpc://` under `/dubbo/{interface}/providers`); a Rust consumer
//! of it over any of the three; and a Rust consumer of a Python Dubbo provider.
//!
//! ```text
//! cargo run --example dubbo -- provider --registry zookeeper://127.0.0.1:2181 --addr 127.0.0.1:20880
//! cargo run --example dubbo -- consumer --registry zookeeper://127.0.0.1:2181 --protocol dubbo
//! curl -H 'content-type: application/json' -d '["Dubbo"]' \
//!     http://127.0.0.1:20880/org.apache.dubbo.samples.api.GreetingsService/sayHi
//! cargo run --example dubbo -- python-echo --registry zookeeper://127.0.0.1:2181
//! ```

use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use rpc::server::RegisterMode;
use rpc::{Protocol, Status};

#[rpc::service(name = "org.apache.dubbo.samples.api.GreetingsService", version = "1.0.0", serialization = "hessian2")]
pub trait GreetingsService {
    #[rpc(name = "sayHi", idempotent)]
    async fn say_hi(&self, name: String) -> Result<String, Status>;
    #[rpc(idempotent)]
    async fn add(&self, a: i32, b: i32) -> Result<i32, Status>;
}

struct Greetings;

impl GreetingsService for Greetings {
    async fn say_hi(&self, name: String) -> Result<String, Status> {
        Ok(format!("Hi, {name}"))
    }
    async fn add(&self, a: i32, b: i32) -> Result<i32, Status> {
        a.checked_add(b).ok_or_else(|| Status::out_of_range("int overflow"))
    }
}

/// Dubbo's Python sample service (`tests/python/dubbo_triple.py provider`): raw protobuf on
/// Triple, a `google.protobuf.StringValue` each way.
#[rpc::service(name = "org.apache.dubbo.samples.python.Echo", serialization = "protobuf")]
pub trait PythonEcho {
    #[rpc(name = "sayHi")]
    async fn say_hi(&self, name: String) -> Result<String, Status>;
}

#[derive(Parser)]
#[command(about = "A Rust member of a Dubbo estate: provider and consumers of Dubbo's sample services")]
struct Args {
    #[command(subcommand)]
    command: Command,
    /// The registry: zookeeper://host:port is where Dubbo looks; file:// (the default) needs
    /// no server, for trying it out on one host.
    #[arg(long, global = true, default_value = "file://")]
    registry: String,
}

#[derive(Subcommand)]
enum Command {
    /// Serve GreetingsService on one port in every protocol (ours, Triple over HTTP/2 and
    /// HTTP/1.1, dubbo2) and register it until Ctrl-C.
    Provider {
        /// Address to listen on; Dubbo's default port is 20880.
        #[arg(long, default_value = "127.0.0.1:20880")]
        addr: String,
        /// What to register, as Dubbo's register-mode: all (both layouts, Dubbo's default),
        /// interface (Dubbo 2's nodes) or instance (Dubbo 3's application-level discovery).
        #[arg(long, default_value = "all")]
        register_mode: RegisterMode,
    },
    /// Find GreetingsService in the registry and call it.
    Consumer {
        /// The protocol to call over: rpc (ours), grpc (Triple) or dubbo (dubbo2).
        #[arg(long, value_enum, default_value = "rpc")]
        protocol: Wire,
        #[arg(long, default_value = "world")]
        name: String,
    },
    /// Find the Python provider of org.apache.dubbo.samples.python.Echo and call it.
    PythonEcho {
        #[arg(long, default_value = "rust")]
        name: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Wire {
    Rpc,
    Grpc,
    Dubbo,
}

impl From<Wire> for Protocol {
    fn from(wire: Wire) -> Protocol {
        match wire {
            Wire::Rpc => Protocol::Binary,
            Wire::Grpc => Protocol::Grpc,
            Wire::Dubbo => Protocol::Dubbo,
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let registry = rpc::registry::connect(&args.registry).await?;
    match args.command {
        Command::Provider { addr, register_mode } => {
            let server = rpc::Server::builder()
                .registry(registry)
                .register_mode(register_mode)
                .application("rust-greetings-provider")
                .add_service(GreetingsServiceServer::new(Greetings))
                .bind(&addr)
                .await?;
            let local = server.local_addr()?;
            println!("GreetingsService listening on {local}, registered in {}", args.registry);
            println!(
                "try: curl -H 'content-type: application/json' -d '[\"Dubbo\"]' http://{local}/{}/sayHi",
                GREETINGS_SERVICE_DESCRIPTOR.name
            );
            server
                .serve_with_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
        }
        Command::Consumer { protocol, name } => {
            let channel = rpc::Channel::builder()
                .registry(registry, &GREETINGS_SERVICE_DESCRIPTOR)
                .application("rust-greetings-consumer")
                .protocol(protocol.into())
                .timeout(Duration::from_secs(3))
                .build()?;
            let client = GreetingsServiceClient::new(channel.clone());
            println!("{}", client.say_hi(name).await?);
            println!("2 + 3 = {}", client.add(2, 3).await?);
            for endpoint in channel.endpoints() {
                println!("called {} over {:?}", endpoint.address, endpoint.protocol);
            }
        }
        Command::PythonEcho { name } => {
            let channel = rpc::Channel::builder()
                .registry(registry, &PYTHON_ECHO_DESCRIPTOR)
                .application("rust-echo-consumer")
                .timeout(Duration::from_secs(3))
                .build()?;
            println!("{}", PythonEchoClient::new(channel).say_hi(name).await?);
        }
    }
    Ok(())
}
