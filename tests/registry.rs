//! Registry-backed discovery end to end, against each backend: the file registry, and real
//! etcd and ZooKeeper processes (see `common/servers.rs`). Providers register themselves;
//! consumers follow them; killed providers expire; registry outages and rolling restarts
//! lose no call.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[cfg(feature = "etcd")]
use common::servers::Etcd;
use common::servers::{TempDir, Zookeeper};
use common::{EchoClient, EchoImpl, EchoServer};
use futures_util::StreamExt;
use rpc::cluster::{Balance, Cluster};
use rpc::registry::Instance;
use rpc::{Channel, Status};

/// A provider on a runtime of its own, registered through a registry it opened itself (so
/// killing the runtime also kills its heartbeats, leases and sessions, as a crash would).
struct Provider {
    addr: String,
    runtime: Option<tokio::runtime::Runtime>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    stopped: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl Provider {
    async fn start(registry_url: &str) -> Provider {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (stopped_tx, stopped) = tokio::sync::oneshot::channel();
        let url = registry_url.to_string();
        runtime.spawn(async move {
            let registry = rpc::registry::connect(&url).await.expect("provider reaches the registry");
            let bound = rpc::Server::builder()
                .registry(registry)
                .shutdown_grace(Duration::from_secs(5))
                .add_service(EchoServer::new(EchoImpl::default()))
                .bind("127.0.0.1:0")
                .await
                .expect("bind loopback");
            let _ = addr_tx.send(bound.local_addr().expect("address").to_string());
            let served = bound
                .serve_with_shutdown(async {
                    let _ = stop_rx.await;
                })
                .await;
            served.unwrap_or_else(|e| panic!("provider stopped serving: {e}"));
            let _ = stopped_tx.send(());
        });
        let addr = addr_rx.await.expect("provider started");
        Provider { addr, runtime: Some(runtime), stop: Some(stop), stopped: Some(stopped) }
    }

    /// Graceful: deregister, go-away, drain, close.
    async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(stopped) = self.stopped.take() {
            let stopped = tokio::time::timeout(Duration::from_secs(10), stopped).await;
            stopped.expect("the provider stops gracefully within 10 s").expect("the provider's serve ends with Ok");
        }
        self.kill();
    }

    /// A crash: no deregistration.
    fn kill(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn consumer(registry_url: &str) -> (Channel, EchoClient) {
    let registry = rpc::registry::connect(registry_url).await.expect("consumer reaches the registry");
    let channel = Channel::builder()
        .registry(registry, "test.Echo")
        .load_balance(Balance::RoundRobin)
        .cluster(Cluster::Failover { retries: 2 })
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    (channel.clone(), EchoClient::new(channel))
}

/// How long until the consumer's set has `count` endpoints (panics after `limit`).
async fn time_until(channel: &Channel, count: usize, limit: Duration, what: &str) -> Duration {
    let started = Instant::now();
    let directory = channel.directory().expect("a cluster channel").clone();
    assert!(
        directory.wait_for(count, limit).await,
        "{what}: the consumer did not see {count} providers within {limit:?}: {:?}",
        channel.endpoints()
    );
    started.elapsed()
}

/// Providers come and go and the consumer follows (well within a second on an idle machine:
/// the times are printed; the bounds of 5 s only catch a consumer that stopped following);
/// a killed one expires.
async fn follow_providers(url: &str, expiry: Duration) {
    let (channel, client) = consumer(url).await;
    let mut first = Provider::start(url).await;
    let mut second = Provider::start(url).await;
    let seen = time_until(&channel, 2, Duration::from_secs(5), "two registered").await;
    println!("{url}: both providers seen {seen:?} after the second registered");
    assert_eq!(client.echo("hi".into()).await.unwrap(), "hi");

    first.shutdown().await;
    let gone = time_until(&channel, 1, Duration::from_secs(5), "one deregistered").await;
    println!("{url}: a deregistration seen after {gone:?}");
    assert_eq!(channel.endpoints()[0].address, second.addr);

    second.kill();
    let expired = time_until(&channel, 0, expiry, "one killed").await;
    println!("{url}: a killed provider expired after {expired:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_registry_follows_providers() {
    let dir = TempDir::new("file-registry");
    // A 2 s TTL: a loaded CI machine can delay a heartbeat (every TTL/3) by a good fraction of 1 s.
    follow_providers(&format!("file://{}?ttl=2s", dir.path().display()), Duration::from_secs(10)).await;
}

#[cfg(feature = "etcd")] // needs protoc to build; the test command enables it
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_registry_follows_providers() {
    let etcd = Etcd::start();
    follow_providers(&format!("{}?ttl=2s", etcd.url()), Duration::from_secs(12)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zookeeper_registry_follows_providers() {
    let zookeeper = Zookeeper::start();
    follow_providers(&zookeeper.url(), Duration::from_secs(12)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zookeeper_nodes_use_dubbos_layout() {
    let zookeeper = Zookeeper::start();
    let registry = rpc::registry::connect(&zookeeper.url()).await.unwrap();
    registry.register(Instance::new("demo.Greeter", "127.0.0.1:20880").version("1.0.0").weight(150)).await.unwrap();
    let client = zookeeper_client::Client::connect(&format!("127.0.0.1:{}", zookeeper.port)).await.unwrap();
    let (children, _) = client.get_children("/dubbo/demo.Greeter/providers").await.unwrap();
    assert_eq!(children.len(), 1);
    let url = percent_encoding::percent_decode_str(&children[0]).decode_utf8().unwrap().to_string();
    assert!(url.starts_with("rpc://127.0.0.1:20880/demo.Greeter?"), "{url}");
    assert!(url.contains("version=1.0.0") && url.contains("weight=150") && url.contains("side=provider"), "{url}");
}

/// Calls on `workers` tasks until `stop`; returns the number of calls and of failures, and
/// the first few failures.
fn load(client: &EchoClient, workers: usize, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<(usize, Failures)> {
    let calls = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Failures::default()));
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (client, stop, calls, failures) = (client.clone(), stop.clone(), calls.clone(), failures.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                // `echo` is not idempotent: only errors known not to have run it are retried.
                if let Err(status) = client.echo("x".into()).await {
                    failures.lock().unwrap().add(status);
                    // A call that fails at once touches no timer or socket: yield, so a
                    // failing loop cannot keep the rest of the test from running.
                    tokio::task::yield_now().await;
                }
                calls.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    tokio::spawn(async move {
        for task in tasks {
            task.await.unwrap();
        }
        let failures = std::mem::take(&mut *failures.lock().unwrap());
        (calls.load(Ordering::SeqCst), failures)
    })
}

/// Failed calls: how many, and the first few.
#[derive(Default)]
struct Failures {
    count: usize,
    first: Vec<Status>,
}

impl Failures {
    fn add(&mut self, status: Status) {
        self.count += 1;
        if self.first.len() < 5 {
            self.first.push(status);
        }
    }

    fn assert_none(&self, calls: usize) {
        assert!(self.count == 0, "{} of {calls} calls failed, first: {:?}", self.count, self.first);
    }
}

/// The fewest endpoints `channel` had, sampled every 5 ms until `stop`.
fn lowest_endpoint_count(channel: &Channel, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<usize> {
    let channel = channel.clone();
    tokio::spawn(async move {
        let mut lowest = usize::MAX;
        while !stop.load(Ordering::SeqCst) {
            lowest = lowest.min(channel.endpoints().len());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        lowest
    })
}

/// The registry goes down under load and comes back: no call fails meanwhile, nor while the
/// providers' sessions or leases from before the outage run out and are renewed afterwards,
/// and the registrations are there again. `session` is the backend's session or lease time.
async fn registry_outage(url: &str, session: Duration, stop_registry: impl FnOnce(), restart_registry: impl FnOnce()) {
    let _a = Provider::start(url).await;
    let _b = Provider::start(url).await;
    let (channel, client) = consumer(url).await;
    time_until(&channel, 2, Duration::from_secs(5), "before the outage").await;
    let stop = Arc::new(AtomicBool::new(false));
    let running = load(&client, 4, stop.clone());
    let lowest = lowest_endpoint_count(&channel, stop.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop_registry();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(channel.endpoints().len(), 2, "the last known set is kept while the registry is down");
    restart_registry();
    let restarted = Instant::now();

    // A fresh consumer sees both providers: their registrations were restored.
    let (fresh, _) = consumer(url).await;
    let seen = time_until(&fresh, 2, Duration::from_secs(15), "after the outage").await;
    // The load goes on until two session (or lease) times after the restart, so whatever
    // expires and is renewed after an outage happens while calls are being made.
    tokio::time::sleep_until((restarted + session * 2).into()).await;
    stop.store(true, Ordering::SeqCst);
    let (calls, failures) = running.await.unwrap();
    let lowest = lowest.await.unwrap();
    println!("{url}: {calls} calls; a fresh consumer saw both providers {seen:?} after the restart; the consumer's set never fell below {lowest}");
    failures.assert_none(calls);
    assert!(calls > 100, "only {calls} calls ran");
    assert!(lowest >= 1, "the consumer was left with no provider");
}

#[cfg(feature = "etcd")] // needs protoc to build; the test command enables it
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_outage_under_load_loses_no_call() {
    let etcd = Arc::new(Mutex::new(Etcd::start()));
    let url = format!("{}?ttl=2s", etcd.lock().unwrap().url());
    let (stopper, restarter) = (etcd.clone(), etcd.clone());
    let (stop, restart) = (move || stopper.lock().unwrap().stop(), move || restarter.lock().unwrap().restart());
    registry_outage(&url, Duration::from_secs(2), stop, restart).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zookeeper_outage_under_load_loses_no_call() {
    let zookeeper = Arc::new(Mutex::new(Zookeeper::start()));
    let url = zookeeper.lock().unwrap().url();
    let (stopper, restarter) = (zookeeper.clone(), zookeeper.clone());
    let (stop, restart) = (move || stopper.lock().unwrap().stop(), move || restarter.lock().unwrap().restart());
    registry_outage(&url, Duration::from_secs(2), stop, restart).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_of_three_providers_loses_no_call() {
    let dir = TempDir::new("rolling");
    let url = format!("file://{}?ttl=2s", dir.path().display());
    let mut providers = Vec::new();
    for _ in 0..3 {
        providers.push(Provider::start(&url).await);
    }
    let (channel, client) = consumer(&url).await;
    time_until(&channel, 3, Duration::from_secs(5), "start").await;
    let stop = Arc::new(AtomicBool::new(false));
    let running = load(&client, 8, stop.clone());
    for provider in providers.iter_mut() {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let replacement = Provider::start(&url).await;
        time_until(&channel, 4, Duration::from_secs(5), "replacement registered").await;
        provider.shutdown().await;
        time_until(&channel, 3, Duration::from_secs(5), "old one deregistered").await;
        *provider = replacement;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    let (calls, failures) = running.await.unwrap();
    failures.assert_none(calls);
    assert!(calls > 500, "only {calls} calls ran");
}

/// 1,000 instances of a service: how long a consumer takes to see them all, and to see one
/// change. Printed (`-- --nocapture`) for the record; the bounds only catch a regression to
/// something pathological.
async fn discovery_scale(url: &str) {
    let registry = rpc::registry::connect(url).await.unwrap();
    let service = "test.Scale";
    let instances: Vec<Instance> =
        (0..1000).map(|i| Instance::new(service, format!("127.0.0.2:{}", 10000 + i)).version("1.0.0")).collect();
    let started = Instant::now();
    let registering = futures_util::stream::iter(instances.clone())
        .map(|instance| {
            let registry = registry.clone();
            async move { registry.register(instance).await }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    assert!(
        registering.iter().all(Result::is_ok),
        "registration failed: {:?}",
        registering.iter().find(|r| r.is_err())
    );
    let registered = started.elapsed();

    let consumer = rpc::registry::connect(url).await.unwrap();
    let started = Instant::now();
    let mut sets = consumer.subscribe(service).await.unwrap();
    let full = loop {
        let set = tokio::time::timeout(Duration::from_secs(30), sets.next()).await.expect("a set in time").unwrap();
        if set.instances.len() == 1000 {
            break started.elapsed();
        }
    };
    let started = Instant::now();
    registry.deregister(&instances[500]).await.unwrap();
    let change = loop {
        let set = tokio::time::timeout(Duration::from_secs(30), sets.next()).await.expect("a change in time").unwrap();
        if set.instances.len() == 999 {
            assert_eq!(set.removed, vec![instances[500].clone()]);
            break started.elapsed();
        }
    };
    println!("{url}: registered 1000 in {registered:?}; a new consumer saw all 1000 after {full:?}; one removal seen after {change:?}");
    assert!(full < Duration::from_secs(20) && change < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_scale_file() {
    let dir = TempDir::new("scale");
    discovery_scale(&format!("file://{}", dir.path().display())).await;
}

#[cfg(feature = "etcd")] // needs protoc to build; the test command enables it
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_scale_etcd() {
    let etcd = Etcd::start();
    discovery_scale(&etcd.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_scale_zookeeper() {
    let zookeeper = Zookeeper::start();
    discovery_scale(&zookeeper.url()).await;
}

#[tokio::test]
async fn registry_urls_pick_their_backend_and_bad_ones_say_why() {
    // Each refusal names what is wrong: the URL, its scheme, or the bad option.
    for (bad, named) in
        [("nonsense", "nonsense"), ("gopher://x", "gopher"), ("static://", "static"), ("file:///tmp/x?ttl=soon", "ttl")]
    {
        let error = rpc::registry::connect(bad).await.err().unwrap_or_else(|| panic!("{bad} was accepted"));
        assert!(error.to_string().contains(named), "{bad}: {error}");
    }
    let fixed = rpc::registry::connect("static://127.0.0.1:1,127.0.0.1:2").await.unwrap();
    let set = fixed.subscribe("any").await.unwrap().next().await.unwrap();
    assert_eq!(set.instances.len(), 2);
    // memory:// is one registry per process: a name of this test's own, as other tests share it.
    let shared = rpc::registry::connect("memory://").await.unwrap();
    shared.register(Instance::new("mem.UrlTest", "127.0.0.1:9")).await.unwrap();
    let again = rpc::registry::connect("memory://").await.unwrap();
    assert_eq!(again.subscribe("mem.UrlTest").await.unwrap().next().await.unwrap().instances.len(), 1);
}

#[cfg(feature = "etcd")] // needs protoc to build; the test command enables it
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_keys_use_dubbos_etcd3_layout() {
    let etcd = Etcd::start();
    let registry = rpc::registry::connect(&etcd.url()).await.unwrap();
    let instance = Instance::new("demo.Greeter", "127.0.0.1:20880").version("1.0.0").weight(150);
    registry.register(instance.clone()).await.unwrap();
    registry.register_consumer(Instance::new("demo.Greeter", "127.0.0.1")).await.unwrap();
    let keys = etcd.keys("/dubbo/");
    assert_eq!(keys.len(), 2, "{keys:?}");
    let consumer = keys.iter().find(|k| k.starts_with("/dubbo/demo.Greeter/consumers/")).expect("a consumer key");
    assert!(consumer.contains("consumer%3A%2F%2F127.0.0.1"), "{consumer}");
    let provider = keys.iter().find_map(|k| k.strip_prefix("/dubbo/demo.Greeter/providers/")).expect("a provider key");
    assert!(!provider.contains('/'), "one path segment, as Dubbo's etcd3 registry lists children: {provider}");
    let url = percent_encoding::percent_decode_str(provider).decode_utf8().unwrap().to_string();
    assert!(url.starts_with("rpc://127.0.0.1:20880/demo.Greeter?"), "{url}");
    assert!(url.contains("version=1.0.0") && url.contains("weight=150") && url.contains("side=provider"), "{url}");
    // The key is read back as the instance it was written from, and withdrawn with it.
    let mut subscription = registry.subscribe("demo.Greeter").await.unwrap();
    let first = tokio_stream_next(&mut subscription).await;
    assert_eq!(first.instances.as_slice(), std::slice::from_ref(&instance));
    registry.deregister(&instance).await.unwrap();
    assert!(tokio_stream_next(&mut subscription).await.instances.is_empty());
    assert_eq!(etcd.keys("/dubbo/demo.Greeter/providers/").len(), 0);
}

#[cfg(feature = "etcd")]
async fn tokio_stream_next(stream: &mut rpc::registry::InstanceStream) -> rpc::registry::InstanceSet {
    tokio::time::timeout(Duration::from_secs(10), stream.next()).await.expect("a set within 10 s").expect("a set")
}
