//! The one-command demo: a provider and a consumer in one process, over a real loopback socket.
//!
//! ```text
//! cargo run --example demo
//! ```

#[path = "greeter/mod.rs"]
mod greeter;

use std::time::Duration;

use greeter::{GreeterClient, GreeterServer, MyGreeter, GREETER_DESCRIPTOR};
use rpc::{CallOptions, Channel, SerializationId};
use tokio::sync::oneshot;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    greeter::init_logging();

    // The registry: the embedded default (a directory shared by processes on this host), here
    // a private one so the demo finds only its own provider.
    let registry_dir = std::env::temp_dir().join(format!("rpc-demo-{}", std::process::id()));
    let registry = rpc::registry::connect(&format!("file://{}", registry_dir.display())).await?;

    // Provider: bind a free loopback port, register, serve in the background.
    let server = rpc::Server::builder()
        .registry(registry.clone())
        .add_service(GreeterServer::new(MyGreeter::new("demo-provider")))
        .bind("127.0.0.1:0")
        .await?;
    let addr = server.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let provider = tokio::spawn(server.serve_with_shutdown(async {
        let _ = stopped.await;
    }));
    println!("provider serving {} v{} on {addr}", GREETER_DESCRIPTOR.name, GREETER_DESCRIPTOR.version);

    // Consumer: discovers the provider through the registry; calls are multiplexed over a
    // pooled connection, with failover and a circuit breaker per provider.
    let channel = Channel::builder().registry(registry, &GREETER_DESCRIPTOR).timeout(Duration::from_secs(2)).build()?;
    if let Some(directory) = channel.directory() {
        // The provider registers as it starts serving; wait until the consumer sees it.
        directory.wait_for(1, Duration::from_secs(5)).await;
    }
    let client = GreeterClient::new(channel.clone());
    println!("{}", client.hello("world".into()).await?);
    let found: Vec<String> = channel.endpoints().into_iter().map(|e| e.address).collect();
    println!("discovered through the file registry: {}", found.join(", "));

    let json = client
        .with_options(CallOptions::new().serialization(SerializationId::Json).attachment("from", "a JSON caller"));
    println!("{}", json.hello("JSON".into()).await?);

    let user = client.lookup(1).await?;
    println!("lookup(1) = {} <{}>", user.name, user.email);
    match client.lookup(42).await {
        Ok(user) => println!("lookup(42) = {user:?}"),
        Err(status) => println!("lookup(42) failed as expected: {status}"),
    }

    // Many calls at once share the connection; replies come back to their own callers.
    let names = ["Ada", "Alan", "Grace", "Edsger", "Barbara"];
    let replies = futures_util::future::join_all(names.iter().map(|name| client.hello(name.to_string()))).await;
    for reply in replies {
        println!("{}", reply?);
    }

    let _ = stop.send(());
    provider.await??;
    println!("provider shut down gracefully");
    let _ = std::fs::remove_dir_all(registry_dir);
    Ok(())
}
