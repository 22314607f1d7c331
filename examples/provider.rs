//! A provider of `demo.Greeter`: registers in a registry (by default the file registry, so
//! providers and consumers on one host find each other with no setup), serves until Ctrl-C,
//! then deregisters and shuts down gracefully.
//!
//! ```text
//! cargo run --example provider -- --label east          # twice, in two terminals
//! cargo run --example provider -- --registry etcd://127.0.0.1:2379 --addr 127.0.0.1:20880
//! cargo run --example provider -- --admin 127.0.0.1:22222   # then curl 127.0.0.1:22222/metrics
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
    /// Serve TLS with this certificate chain (PEM); plaintext is still served beside it
    /// unless --tls-required.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// Verify client certificates against the CAs in this PEM file (mutual TLS).
    #[arg(long, requires = "tls_cert")]
    tls_ca: Option<std::path::PathBuf>,
    /// Refuse plaintext, and with --tls-ca, clients without a certificate.
    #[arg(long, requires = "tls_cert")]
    tls_required: bool,
    /// Serve the admin port here (e.g. 127.0.0.1:22222): /live, /ready, /startup,
    /// /metrics, /services, /online, /offline.
    #[arg(long)]
    admin: Option<String>,
}

/// The TLS settings the flags ask for, if any.
fn server_tls(args: &Args) -> std::io::Result<Option<rpc::tls::ServerTls>> {
    let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) else { return Ok(None) };
    let mut tls = rpc::tls::ServerTls::from_pem_files(cert, key).allow_plaintext(!args.tls_required);
    if let Some(ca) = &args.tls_ca {
        let auth = if args.tls_required { rpc::tls::ClientAuth::Required } else { rpc::tls::ClientAuth::Optional };
        tls = tls.client_ca(ca).client_auth(auth);
    }
    tls.build().map(Some)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    greeter::init_logging();
    let args = Args::parse();
    let registry = rpc::registry::connect(&args.registry).await?;
    let mut builder = rpc::Server::builder();
    if let Some(tls) = server_tls(&args)? {
        builder = builder.tls(tls);
    }
    if let Some(admin) = &args.admin {
        builder = builder.admin(admin);
    }
    let server = builder
        .layer(rpc::metrics::MetricsLayer::server())
        .registry(registry)
        .weight(args.weight)
        .add_service(GreeterServer::new(MyGreeter::new(&args.label)))
        .bind(&args.addr)
        .await?;
    println!("provider {} listening on {}", args.label, server.local_addr()?);
    if let Some(admin) = server.admin_addr() {
        println!("admin port on http://{admin}");
    }
    server
        .serve_with_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    println!("provider {} stopped", args.label);
    Ok(())
}
