//! The cluster client in action: three providers with weights 100, 200 and 300; a consumer
//! cycles through the load balancers printing where its calls went; then one provider is
//! killed mid-load and failover plus the endpoint states show what happened. Exits with an
//! error if any of those calls failed.
//!
//! ```text
//! cargo run --example cluster
//! ```

#[path = "greeter/mod.rs"]
mod greeter;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use greeter::{GreeterClient, GreeterServer, MyGreeter};
use rpc::cluster::{Balance, BreakerConfig, Cluster, HashKey};
use rpc::Channel;

/// A provider on a runtime of its own, so it can be killed like a crashed process.
struct Provider {
    label: String,
    addr: String,
    weight: u32,
    greeter: Arc<MyGreeter>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Provider {
    async fn start(label: &str, weight: u32) -> Result<Provider, Box<dyn std::error::Error>> {
        let greeter = Arc::new(MyGreeter::new(label));
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
        let service = GreeterServer::from_arc(greeter.clone());
        let server = runtime
            .spawn(async move { rpc::Server::builder().add_service(service).bind("127.0.0.1:0").await })
            .await??;
        let addr = server.local_addr()?.to_string();
        runtime.spawn(server.serve());
        Ok(Provider { label: label.into(), addr, weight, greeter, runtime: Some(runtime) })
    }

    fn served(&self) -> u64 {
        self.greeter.served.load(Ordering::Relaxed)
    }

    fn kill(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for Provider {
    // A runtime may not be dropped inside another; shutting it down in the background may.
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    greeter::init_logging();
    let mut providers = Vec::new();
    for (label, weight) in [("p1", 100), ("p2", 200), ("p3", 300)] {
        let provider = Provider::start(label, weight).await?;
        println!("provider {label} (weight {weight}) on {}", provider.addr);
        providers.push(provider);
    }
    let endpoints: Vec<String> = providers.iter().map(|p| format!("{};weight={}", p.addr, p.weight)).collect();

    let balancers = [
        Balance::RoundRobin,
        Balance::WeightedRoundRobin,
        Balance::WeightedRandom,
        Balance::LeastActive,
        Balance::PeakEwma,
        Balance::ConsistentHash { key: HashKey::Arg(0), vnodes: 160 },
    ];
    println!("\n{:<60} {:>6} {:>6} {:>6}", "balancer (8 callers x 75 calls, names user-0..5)", "p1", "p2", "p3");
    for balance in balancers {
        let channel = Channel::builder().endpoints(&endpoints).load_balance(balance.clone()).build()?;
        let client = GreeterClient::new(channel);
        let before: Vec<u64> = providers.iter().map(Provider::served).collect();
        let mut callers = Vec::new();
        for caller in 0..8 {
            let client = client.clone();
            callers.push(tokio::spawn(async move {
                for n in 0..75 {
                    client.hello(format!("user-{}", (caller + n) % 6)).await?;
                }
                Ok::<_, rpc::Status>(())
            }));
        }
        for caller in callers {
            caller.await??;
        }
        let counts: Vec<u64> = providers.iter().zip(before).map(|(p, b)| p.served() - b).collect();
        println!("{:<60} {:>6} {:>6} {:>6}", format!("{balance:?}"), counts[0], counts[1], counts[2]);
    }

    println!("\nkilling p3 while 16 callers make 6,000 idempotent lookups (failover, 2 retries)");
    let channel = Channel::builder()
        .endpoints(&endpoints)
        .load_balance(Balance::RoundRobin)
        .cluster(Cluster::Failover { retries: 2 })
        .circuit_breaker(BreakerConfig::default().minimum_calls(10))
        .timeout(Duration::from_secs(2))
        .build()?;
    let client = GreeterClient::new(channel.clone());
    let done = Arc::new(AtomicUsize::new(0));
    let mut callers = Vec::new();
    for caller in 0..16 {
        let (client, done) = (client.clone(), done.clone());
        callers.push(tokio::spawn(async move {
            let mut failed = 0;
            for _ in 0..375 {
                if client.lookup(1 + caller % 2).await.is_err() {
                    failed += 1;
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            failed
        }));
    }
    // A third of the way through.
    while done.load(Ordering::Relaxed) < 2_000 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    providers[2].kill();
    let mut failed = 0;
    for caller in callers {
        failed += caller.await?;
    }
    println!("failed calls: {failed} of 6000");
    println!("\n{:<22} {:>6} {:>10} {:>10} {:>8}", "endpoint", "weight", "breaker", "connected", "calls");
    for endpoint in channel.endpoints() {
        let label = providers.iter().find(|p| p.addr == endpoint.address).map_or("?", |p| p.label.as_str());
        println!(
            "{:<22} {:>6} {:>10} {:>10} {:>8}",
            format!("{label} {}", endpoint.address),
            endpoint.weight,
            format!("{:?}", endpoint.breaker),
            endpoint.connected,
            endpoint.calls
        );
    }
    if failed > 0 {
        return Err(format!("{failed} calls failed despite failover").into());
    }
    Ok(())
}
