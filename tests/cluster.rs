//! The cluster client against real providers on loopback: distribution per balancer,
//! failover when a provider dies or hangs, circuit breaking, deadlines shared by retries,
//! and the cluster modes. Each provider runs on its own runtime: "killing" it refuses new
//! connections and drops that runtime, closing its sockets the way a crashed process would;
//! "hanging" it blocks the runtime's only thread, so its sockets stay open and nothing
//! answers, as with a stopped process.
//!
//! Distribution checks allow 6 standard deviations of the binomial (a chance failure below
//! 2e-9 per check); timing checks leave seconds where the code needs milliseconds.

use std::collections::{HashMap, HashSet};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rpc::cluster::{Balance, BreakerConfig, BreakerState, Cluster, HashKey, MethodConfig};
use rpc::registry::{Instance, MemoryRegistry, Registry};
use rpc::{CallContext, Channel, Code, Status};

#[rpc::service(name = "test.Node", version = "1.0.0")]
pub trait Node {
    /// The provider's label.
    #[rpc(idempotent)]
    async fn whoami(&self) -> Result<String, Status>;
    /// The provider's label, for a key (consistent hashing on argument 0).
    #[rpc(idempotent)]
    async fn keyed(&self, key: String, n: u64) -> Result<String, Status>;
    /// Not idempotent: records `id` as executed.
    async fn write(&self, id: u64) -> Result<String, Status>;
    /// The deadline budget left when the call started, in ms (idempotent, fails in `Failing`).
    #[rpc(idempotent)]
    async fn budget(&self) -> Result<u64, Status>;
    #[rpc(idempotent)]
    async fn count(&self) -> Result<u64, Status>;
}

const NORMAL: u8 = 0;
const FAILING: u8 = 1;
const SLOW: u8 = 2;
const SLOW_THEN_FAIL: u8 = 3;

#[derive(Default)]
struct State {
    label: String,
    mode: AtomicU8,
    slow_ms: AtomicU64,
    calls: AtomicUsize,
    /// `count` calls that succeeded.
    counted: AtomicUsize,
    executed: Mutex<Vec<u64>>,
    budgets: Mutex<Vec<u64>>,
}

#[derive(Clone)]
struct NodeImpl(Arc<State>);

impl NodeImpl {
    async fn behave(&self) -> Result<(), Status> {
        self.0.calls.fetch_add(1, Ordering::SeqCst);
        match self.0.mode.load(Ordering::SeqCst) {
            FAILING => Err(Status::internal(format!("{} is failing", self.0.label))),
            SLOW => {
                tokio::time::sleep(Duration::from_millis(self.0.slow_ms.load(Ordering::SeqCst))).await;
                Ok(())
            }
            SLOW_THEN_FAIL => {
                tokio::time::sleep(Duration::from_millis(self.0.slow_ms.load(Ordering::SeqCst))).await;
                Err(Status::unavailable(format!("{} gave up", self.0.label)))
            }
            _ => Ok(()),
        }
    }
}

impl Node for NodeImpl {
    async fn whoami(&self) -> Result<String, Status> {
        self.behave().await?;
        Ok(self.0.label.clone())
    }
    async fn keyed(&self, _key: String, _n: u64) -> Result<String, Status> {
        self.behave().await?;
        Ok(self.0.label.clone())
    }
    async fn write(&self, id: u64) -> Result<String, Status> {
        self.0.executed.lock().unwrap().push(id);
        self.behave().await?;
        Ok(self.0.label.clone())
    }
    async fn budget(&self) -> Result<u64, Status> {
        let left = CallContext::current().and_then(|c| c.remaining()).map_or(u64::MAX, |d| d.as_millis() as u64);
        self.0.budgets.lock().unwrap().push(left);
        self.behave().await?;
        Ok(left)
    }
    async fn count(&self) -> Result<u64, Status> {
        self.behave().await?;
        self.0.counted.fetch_add(1, Ordering::SeqCst);
        Ok(self.0.calls.load(Ordering::SeqCst) as u64)
    }
}

/// A provider on its own runtime (one worker thread), on a free loopback port.
struct Provider {
    addr: String,
    state: Arc<State>,
    runtime: Option<tokio::runtime::Runtime>,
    /// Its listening socket (a second handle), to refuse connections with on `kill`.
    listener: Option<std::net::TcpListener>,
    /// Starts a graceful shutdown.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// Set to let a hung provider's thread go.
    hung: Arc<AtomicBool>,
}

impl Provider {
    async fn start(label: &str) -> Provider {
        Provider::start_at(label, "127.0.0.1:0").await
    }

    /// On `addr`; a port still held by a provider killed a moment ago is waited for.
    async fn start_at(label: &str, addr: &str) -> Provider {
        let listener = bind_when_free(addr).await;
        let addr = listener.local_addr().expect("local address").to_string();
        let closer = listener.try_clone().expect("a second handle on the listener");
        let state = Arc::new(State { label: label.to_string(), ..State::default() });
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let service = NodeServer::new(NodeImpl(state.clone()));
        let label = label.to_string();
        let _guard = runtime.enter();
        let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
        runtime.spawn(async move {
            let served = rpc::Server::builder()
                .add_service(service)
                .bind_listener(listener)
                .serve_with_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
            served.unwrap_or_else(|e| panic!("provider {label} stopped serving: {e}"));
        });
        drop(_guard);
        Provider {
            addr,
            state,
            runtime: Some(runtime),
            listener: Some(closer),
            stop: Some(stop),
            hung: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Shuts it down gracefully: go-away on every connection, calls in flight finish,
    /// requests arriving after the go-away are refused unrun.
    fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Crashes it: new connections are refused at once, then every task and socket of its
    /// runtime goes. (Refusing first keeps a client from reconnecting into the listen
    /// backlog in the moment before the runtime's tasks are dropped.)
    fn kill(&mut self) {
        self.hung.store(false, Ordering::SeqCst);
        if let Some(listener) = self.listener.take() {
            // SAFETY: `shutdown` on a socket this handle owns; a listening socket stops
            // accepting and resets its backlog.
            unsafe { libc::shutdown(listener.as_raw_fd(), libc::SHUT_RD) };
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }

    /// Hangs it: its one thread is blocked, so its sockets stay open (the kernel even
    /// completes new TCP handshakes) and nothing is read or answered. Until `kill` or drop.
    fn hang(&self) {
        let hung = self.hung.clone();
        hung.store(true, Ordering::SeqCst);
        if let Some(runtime) = &self.runtime {
            runtime.spawn(async move {
                while hung.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(5));
                }
            });
        }
    }

    fn calls(&self) -> usize {
        self.state.calls.load(Ordering::SeqCst)
    }

    fn counted(&self) -> usize {
        self.state.counted.load(Ordering::SeqCst)
    }

    fn set_mode(&self, mode: u8) {
        self.state.mode.store(mode, Ordering::SeqCst);
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A listener on `addr`, waiting up to 10 s for the port if it is still in use.
async fn bind_when_free(addr: &str) -> std::net::TcpListener {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match std::net::TcpListener::bind(addr) {
            Ok(listener) => {
                listener.set_nonblocking(true).expect("non-blocking listener");
                return listener;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("bind {addr}: {e}"),
        }
    }
}

/// Asserts `got` of `n` trials is within 6 standard deviations of the binomial with
/// probability `p` (a chance failure below 2e-9).
fn assert_binomial(what: &str, got: usize, n: usize, p: f64) {
    let (mean, sigma) = (n as f64 * p, (n as f64 * p * (1.0 - p)).sqrt());
    assert!(
        (got as f64 - mean).abs() <= 6.0 * sigma,
        "{what}: {got} of {n}, expected {mean:.0} ± {:.0} (6 σ)",
        6.0 * sigma
    );
}

async fn providers(n: usize) -> Vec<Provider> {
    let mut all = Vec::new();
    for i in 0..n {
        all.push(Provider::start(&format!("p{i}")).await);
    }
    all
}

fn addresses(providers: &[Provider], weights: &[u32]) -> Vec<String> {
    providers.iter().zip(weights).map(|(p, w)| format!("{};weight={w}", p.addr)).collect()
}

/// Round-robin with failover (2 retries) over `nodes` of equal weight, 5 s timeout.
fn round_robin_failover(nodes: &[Provider]) -> Channel {
    Channel::builder()
        .endpoints(addresses(nodes, &vec![100; nodes.len()]))
        .load_balance(Balance::RoundRobin)
        .cluster(Cluster::Failover { retries: 2 })
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn client(channel: Channel) -> NodeClient {
    NodeClient::new(channel)
}

/// Labels returned by `calls` sequential `whoami` calls, counted.
async fn distribution(client: &NodeClient, calls: usize) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for _ in 0..calls {
        *counts.entry(client.whoami().await.expect("call")).or_default() += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_robin_is_exactly_even() {
    let nodes = providers(3).await;
    let channel = Channel::builder()
        .endpoints(addresses(&nodes, &[100, 100, 100]))
        .load_balance(Balance::RoundRobin)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let counts = distribution(&client(channel), 3000).await;
    assert_eq!(counts.values().copied().collect::<Vec<_>>(), vec![1000; 3], "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weighted_balancers_follow_the_weights() {
    let nodes = providers(3).await;
    let weights = [100u32, 200, 300];
    for balance in [Balance::WeightedRoundRobin, Balance::WeightedRandom] {
        let channel = Channel::builder()
            .endpoints(addresses(&nodes, &weights))
            .load_balance(balance.clone())
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let calls = 12_000;
        let counts = distribution(&client(channel), calls).await;
        for (i, weight) in weights.iter().enumerate() {
            let got = counts.get(&format!("p{i}")).copied().unwrap_or(0);
            let share = f64::from(*weight) / 600.0;
            if balance == Balance::WeightedRoundRobin {
                // A fixed schedule: exact over whole cycles.
                assert_eq!(got, (share * calls as f64).round() as usize, "{balance:?}: p{i}");
            } else {
                assert_binomial(&format!("{balance:?}: p{i}"), got, calls, share);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consistent_hash_keeps_keys_and_moves_few_when_a_provider_leaves() {
    let nodes = providers(5).await;
    let registry = Arc::new(MemoryRegistry::new());
    for node in &nodes {
        registry.register(Instance::new("test.Node", &node.addr).version("1.0.0")).await.unwrap();
    }
    let channel = Channel::builder()
        .registry(registry.clone(), "test.Node")
        .load_balance(Balance::ConsistentHash { key: HashKey::Arg(0), vnodes: 160 })
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let directory = channel.directory().unwrap().clone();
    assert!(directory.wait_for(5, Duration::from_secs(5)).await);
    let client = client(channel);
    let keys = 10_000;
    let mut placed = Vec::with_capacity(keys);
    for k in 0..keys {
        placed.push(client.keyed(format!("user-{k}"), k as u64).await.unwrap());
    }
    // The same key again, with a different second argument: the same provider.
    for k in (0..keys).step_by(97) {
        assert_eq!(client.keyed(format!("user-{k}"), 0).await.unwrap(), placed[k]);
    }

    registry.deregister(&Instance::new("test.Node", &nodes[4].addr).version("1.0.0")).await.unwrap();
    assert!(directory.wait_for(4, Duration::from_secs(5)).await);
    let mut moved = 0;
    for (k, before) in placed.iter().enumerate() {
        let now = client.keyed(format!("user-{k}"), k as u64).await.unwrap();
        if &now != before {
            assert_eq!(before, "p4", "key {k} moved though its provider stayed");
            moved += 1;
        }
    }
    // The ring comes from random ports, so p4's share varies from run to run: about
    // Beta(160, 640) (mean 0.2, sd 0.0141) plus the keys' own binomial spread (sd 0.004).
    // 1,000..=3,000 is 0.2 ± 0.1, beyond 6.7 of their combined sd.
    assert!((1_000..=3_000).contains(&moved), "{moved} of {keys} keys moved; about a fifth should");
}

/// 32 callers for `calls` calls in all; returns calls per provider label.
async fn concurrent_whoami(client: &NodeClient, calls: usize) -> HashMap<String, usize> {
    let counts = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..32 {
        let (client, counts, next) = (client.clone(), counts.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::SeqCst) < calls {
                let label = client.whoami().await.expect("call");
                *counts.lock().unwrap().entry(label).or_default() += 1;
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    Arc::try_unwrap(counts).unwrap().into_inner().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn least_active_and_peak_ewma_steer_away_from_a_slow_provider() {
    let nodes = providers(3).await;
    nodes[0].state.slow_ms.store(50, Ordering::SeqCst);
    nodes[0].set_mode(SLOW);
    for balance in [Balance::LeastActive, Balance::PeakEwma] {
        let channel = Channel::builder()
            .endpoints(addresses(&nodes, &[100, 100, 100]))
            .load_balance(balance.clone())
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let counts = concurrent_whoami(&client(channel), 3000).await;
        let slow = counts.get("p0").copied().unwrap_or(0);
        // An even share would be 1000; the slow one should get a small fraction.
        assert!(slow < 300, "{balance:?} sent {slow} of 3000 calls to the slow provider: {counts:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_survives_a_killed_provider_without_a_failed_call() {
    let mut nodes = providers(3).await;
    let channel = round_robin_failover(&nodes);
    let client = client(channel);
    let total = 12_000;
    let done = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let mut workers = Vec::new();
    for _ in 0..16 {
        let (client, done, failures) = (client.clone(), done.clone(), failures.clone());
        workers.push(tokio::spawn(async move {
            while done.fetch_add(1, Ordering::SeqCst) < total {
                if let Err(status) = client.whoami().await {
                    failures.lock().unwrap().push(status);
                }
            }
        }));
    }
    while done.load(Ordering::SeqCst) < total / 3 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    nodes[1].kill();
    for worker in workers {
        worker.await.unwrap();
    }
    let failures = failures.lock().unwrap();
    assert!(failures.is_empty(), "{} failed calls, first: {:?}", failures.len(), failures.first());
    assert!(nodes[1].calls() > 0 && nodes[1].calls() < total / 2, "the killed provider served {}", nodes[1].calls());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_survives_a_hung_provider_without_a_failed_call() {
    let nodes = providers(3).await;
    // Heartbeats every 100 ms: a connection silent for 300-400 ms is presumed dead, and a
    // new one counts as up only once the provider answers its opening heartbeat.
    let channel = Channel::builder()
        .endpoints(addresses(&nodes, &[100, 100, 100]))
        .load_balance(Balance::RoundRobin)
        .cluster(Cluster::Failover { retries: 2 })
        .heartbeat_interval(Some(Duration::from_millis(100)))
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let client = client(channel.clone());
    let total = 6_000;
    let done = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let slowest = Arc::new(Mutex::new(Duration::ZERO));
    let mut workers = Vec::new();
    for _ in 0..16 {
        let (client, done, failures, slowest) = (client.clone(), done.clone(), failures.clone(), slowest.clone());
        workers.push(tokio::spawn(async move {
            while done.fetch_add(1, Ordering::SeqCst) < total {
                let started = Instant::now();
                if let Err(status) = client.whoami().await {
                    failures.lock().unwrap().push(status);
                }
                let took = started.elapsed();
                let mut slowest = slowest.lock().unwrap();
                *slowest = (*slowest).max(took);
            }
        }));
    }
    while done.load(Ordering::SeqCst) < total / 3 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    nodes[1].hang();
    let served_before_hanging = nodes[1].calls();
    for worker in workers {
        worker.await.unwrap();
    }
    let failures = failures.lock().unwrap();
    assert!(failures.is_empty(), "{} failed calls, first: {:?}", failures.len(), failures.first());
    assert!(served_before_hanging > 0, "the hung provider had served calls before");
    // What a call caught on the hung provider waits: 300-400 ms until its connection is
    // presumed dead (or up to the 500 ms connect timeout of a reconnection that gets no
    // answer), then a retry elsewhere. 5 s leaves a wide margin over that and stays far
    // below the 20 s call timeout, which would otherwise be what bounds it.
    let slowest = *slowest.lock().unwrap();
    println!("slowest call while a provider hung: {slowest:?}");
    assert!(slowest < Duration::from_secs(5), "a call waited {slowest:?} on the hung provider");
    let hung = channel.endpoints().into_iter().find(|e| e.address == nodes[1].addr).expect("still listed");
    assert!(!hung.connected, "the hung provider is not connected: {hung:?}");
}

/// Sends `write(0..total)` from 32 workers over `nodes`, doing `interrupt` to them a third of
/// the way; returns how many ids ran and the failed calls' errors, after checking no id ran
/// twice.
async fn writes_across(
    nodes: &mut [Provider],
    total: u64,
    interrupt: impl FnOnce(&mut [Provider]),
) -> (u64, Vec<Status>) {
    let client = client(round_robin_failover(nodes));
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..32 {
        let (client, next) = (client.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut failed = Vec::new();
            loop {
                let id = next.fetch_add(1, Ordering::SeqCst);
                if id >= total {
                    return failed;
                }
                if let Err(status) = client.write(id).await {
                    failed.push(status);
                }
            }
        }));
    }
    while next.load(Ordering::SeqCst) < total / 3 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    interrupt(nodes);
    let mut failed = Vec::new();
    for worker in workers {
        failed.extend(worker.await.unwrap());
    }
    let mut seen = HashSet::new();
    for node in nodes.iter() {
        for id in node.state.executed.lock().unwrap().iter() {
            assert!(seen.insert(*id), "call {id} ran twice");
        }
    }
    (seen.len() as u64, failed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_is_not_idempotent_never_runs_twice() {
    let mut nodes = providers(3).await;
    // p2 records each write, then takes 20 ms to answer: killed, it leaves calls that ran
    // there unanswered, which a retry elsewhere would run a second time.
    nodes[2].state.slow_ms.store(20, Ordering::SeqCst);
    nodes[2].set_mode(SLOW);
    let total = 6_000;
    let (ran, failed) = writes_across(&mut nodes, total, |nodes| nodes[2].kill()).await;
    assert!(!failed.is_empty(), "calls in flight on the killed provider fail: the test proves nothing otherwise");
    // Only calls in flight on the killed provider's one connection may fail: each of the 32
    // workers has one call out at a time, the connection is marked closed before those calls
    // are failed, and new connections to it are refused. They fail as sent (so not retried)
    // and may or may not have run there; every other call ran exactly once.
    assert!(failed.len() <= 32, "{} calls failed, more than were in flight: {:?}", failed.len(), failed.first());
    for status in &failed {
        assert_eq!(status.code(), Code::Unavailable, "{status}");
        assert!(!status.is_not_sent(), "a call known not to have been sent would have been retried: {status}");
    }
    assert!(ran >= total - failed.len() as u64, "{ran} of {total} ran, {} failed", failed.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_shutting_down_loses_no_call_that_is_not_idempotent() {
    let mut nodes = providers(3).await;
    let total = 6_000;
    // Requests that reach it after its go-away are refused unrun, with their metadata echoed:
    // the client rebuilds each from the body it kept and sends it to another provider.
    let (ran, failed) = writes_across(&mut nodes, total, |nodes| nodes[2].stop()).await;
    assert!(failed.is_empty(), "{} failed calls, first: {:?}", failed.len(), failed.first());
    assert_eq!(ran, total, "every call ran exactly once");
}

/// A channel over `nodes` whose breakers open at a 50 % failure rate over 10 calls, for
/// `open_for`, and close after two successful probes.
fn breaking_channel(nodes: &[Provider], open_for: Duration) -> Channel {
    Channel::builder()
        .endpoints(addresses(nodes, &vec![100; nodes.len()]))
        .load_balance(Balance::RoundRobin)
        .cluster(Cluster::Failover { retries: 2 })
        .circuit_breaker(
            BreakerConfig::default().minimum_calls(10).failure_rate(0.5).open_for(open_for).half_open_probes(2),
        )
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn breaker_of(channel: &Channel, node: &Provider) -> Option<BreakerState> {
    channel.endpoints().iter().find(|e| e.address == node.addr).map(|e| e.breaker)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breaker_opens_on_a_failing_provider_and_sends_it_nothing() {
    let nodes = providers(3).await;
    // A cool-down no test outlasts: what is seen here is the open state alone.
    let channel = breaking_channel(&nodes, Duration::from_secs(600));
    let client = client(channel.clone());
    distribution(&client, 30).await;
    nodes[0].set_mode(FAILING);
    // Failover hides the errors from the caller while the breaker counts them.
    distribution(&client, 60).await;
    assert_eq!(breaker_of(&channel, &nodes[0]), Some(BreakerState::Open));
    let before = nodes[0].calls();
    let counts = distribution(&client, 300).await;
    assert_eq!(nodes[0].calls(), before, "an open breaker sends nothing");
    assert_eq!(counts.get("p0"), None);
    assert_eq!(counts.values().sum::<usize>(), 300, "every call was answered by the others");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breaker_closes_when_the_provider_heals() {
    let nodes = providers(3).await;
    let channel = breaking_channel(&nodes, Duration::from_millis(200));
    let client = client(channel.clone());
    nodes[0].set_mode(FAILING);
    let deadline = Instant::now() + Duration::from_secs(10);
    while breaker_of(&channel, &nodes[0]) != Some(BreakerState::Open) {
        assert!(Instant::now() < deadline, "the breaker never opened");
        distribution(&client, 3).await;
    }
    nodes[0].set_mode(NORMAL);
    // After the cool-down the probes succeed and the breaker closes; calls find p0 again.
    let deadline = Instant::now() + Duration::from_secs(10);
    while breaker_of(&channel, &nodes[0]) != Some(BreakerState::Closed) {
        assert!(Instant::now() < deadline, "the breaker never closed: {:?}", channel.endpoints());
        tokio::time::sleep(Duration::from_millis(20)).await;
        distribution(&client, 3).await;
    }
    // Closed and healthy, round-robin gives it its third again.
    let counts = distribution(&client, 300).await;
    assert_eq!(counts.get("p0"), Some(&100), "traffic came back: {counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_call_leaves_no_load_and_returns_its_probe() {
    let nodes = providers(1).await;
    let channel = Channel::builder()
        .endpoints(addresses(&nodes, &[100]))
        .cluster(Cluster::Failfast)
        // A cool-down long enough that no stall turns the open state into a probe early.
        .circuit_breaker(BreakerConfig::default().minimum_calls(5).open_for(Duration::from_secs(2)).half_open_probes(1))
        .build()
        .unwrap();
    let client = client(channel.clone());
    let endpoint = |c: &Channel| c.endpoints().into_iter().next().expect("one endpoint");
    assert_eq!(client.whoami().await.unwrap(), "p0");

    // Callers that give up mid-call are no longer in flight.
    nodes[0].state.slow_ms.store(2_000, Ordering::SeqCst);
    nodes[0].set_mode(SLOW);
    for _ in 0..8 {
        assert!(tokio::time::timeout(Duration::from_millis(20), client.whoami()).await.is_err());
    }
    assert_eq!(endpoint(&channel).in_flight, 0);

    // Open the breaker, wait out the cool-down, then cancel the one half-open probe: the
    // breaker must let the next call probe instead of waiting for an outcome forever.
    nodes[0].set_mode(FAILING);
    for _ in 0..10 {
        let _ = client.whoami().await;
    }
    assert_eq!(endpoint(&channel).breaker, BreakerState::Open);
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    nodes[0].set_mode(SLOW);
    assert!(tokio::time::timeout(Duration::from_millis(20), client.whoami()).await.is_err());
    assert_eq!(endpoint(&channel).breaker, BreakerState::HalfOpen);
    nodes[0].set_mode(NORMAL);
    assert_eq!(client.whoami().await.unwrap(), "p0", "the cancelled probe was given back");
    assert_eq!(endpoint(&channel).breaker, BreakerState::Closed);
    assert_eq!(endpoint(&channel).in_flight, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_breakers_open_fails_fast_with_a_clear_message() {
    let nodes = providers(2).await;
    nodes.iter().for_each(|n| n.set_mode(FAILING));
    let channel = Channel::builder()
        .endpoints(addresses(&nodes, &[100, 100]))
        .cluster(Cluster::Failfast)
        .circuit_breaker(BreakerConfig::default().minimum_calls(5).open_for(Duration::from_secs(60)))
        .build()
        .unwrap();
    let client = client(channel);
    for _ in 0..40 {
        let _ = client.whoami().await;
    }
    let before: usize = nodes.iter().map(Provider::calls).sum();
    let started = Instant::now();
    let status = client.whoami().await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert!(status.message().contains("circuit breaker open"), "{status}");
    assert!(nodes.iter().all(|n| status.message().contains(&n.addr)), "names every open breaker: {status}");
    assert_eq!(nodes.iter().map(Provider::calls).sum::<usize>(), before, "nothing was sent");
    // No network wait at all (the breakers are open for a minute); 500 ms is for a busy machine.
    assert!(started.elapsed() < Duration::from_millis(500), "fails fast");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_share_the_deadline_and_the_provider_refuses_to_overrun_it() {
    let nodes = providers(2).await;
    let channel = Channel::builder()
        .endpoints(addresses(&nodes, &[100, 100]))
        .load_balance(Balance::RoundRobin)
        .cluster(Cluster::Failover { retries: 2 })
        .method("budget", MethodConfig::new().timeout(Duration::from_millis(1_000)))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let client = client(channel);
    // Connected to both first (round-robin, so the next call starts at p0 again): the budget
    // call measures the deadline, not connection setup.
    assert_eq!(distribution(&client, 2).await.len(), 2);
    // p0 answers with an error after 600 ms; the retry on p1 has the ~400 ms left of 1 s.
    nodes[0].state.slow_ms.store(600, Ordering::SeqCst);
    nodes[0].set_mode(SLOW_THEN_FAIL);
    nodes[1].state.slow_ms.store(5_000, Ordering::SeqCst);
    nodes[1].set_mode(SLOW);
    let started = Instant::now();
    let status = client.budget().await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status}");
    assert!(elapsed < Duration::from_millis(2_500), "took {elapsed:?}: the retry did not get a fresh timeout");
    let p0_budgets = nodes[0].state.budgets.lock().unwrap().clone();
    let p1_budgets = nodes[1].state.budgets.lock().unwrap().clone();
    assert_eq!((p0_budgets.len(), p1_budgets.len()), (1, 1), "one attempt each");
    assert!(p0_budgets[0] > 800, "the first attempt had (nearly) the whole budget: {p0_budgets:?}");
    assert!(p1_budgets[0] <= 400, "the retry had only what was left: {p1_budgets:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failsafe_forking_broadcast_and_failback() {
    let nodes = providers(3).await;
    let endpoints = addresses(&nodes, &[100, 100, 100]);
    let build = |cluster| {
        Channel::builder()
            .endpoints(endpoints.clone())
            .load_balance(Balance::RoundRobin)
            .cluster(cluster)
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap()
    };

    // Failsafe: an error becomes the type's default.
    nodes.iter().for_each(|n| n.set_mode(FAILING));
    let failsafe = client(build(Cluster::Failsafe));
    assert_eq!(failsafe.whoami().await.unwrap(), "");
    nodes.iter().for_each(|n| n.set_mode(NORMAL));

    // Forking: three at once, the fast one wins.
    nodes[0].state.slow_ms.store(10_000, Ordering::SeqCst);
    nodes[0].set_mode(SLOW);
    nodes[1].state.slow_ms.store(10_000, Ordering::SeqCst);
    nodes[1].set_mode(SLOW);
    let forking = client(build(Cluster::Forking { parallel: 3 }));
    let started = Instant::now();
    assert_eq!(forking.whoami().await.unwrap(), "p2");
    assert!(started.elapsed() < Duration::from_secs(5), "did not wait for the slow ones");
    nodes.iter().for_each(|n| n.set_mode(NORMAL));

    // Broadcast: every provider runs it; one failing fails the call. (`count` calls are
    // counted on their own, so the forked calls above do not disturb the count.)
    let before: Vec<usize> = nodes.iter().map(Provider::counted).collect();
    let broadcast = client(build(Cluster::Broadcast));
    broadcast.count().await.unwrap();
    for (node, before) in nodes.iter().zip(before) {
        assert_eq!(node.counted(), before + 1, "{} got the broadcast", node.state.label);
    }
    nodes[1].set_mode(FAILING);
    assert_eq!(broadcast.count().await.unwrap_err().code(), Code::Internal);
    nodes[1].set_mode(NORMAL);

    // Failback: the caller gets the default at once; the call is retried in the background
    // and succeeds once the providers heal.
    nodes.iter().for_each(|n| n.set_mode(FAILING));
    let failback = client(build(Cluster::Failback { retries: 20, queue: 16, interval: Duration::from_millis(50) }));
    let before: usize = nodes.iter().map(Provider::counted).sum();
    let started = Instant::now();
    assert_eq!(failback.count().await.unwrap(), 0);
    assert!(started.elapsed() < Duration::from_secs(2), "the caller did not wait for the retries");
    assert_eq!(nodes.iter().map(Provider::counted).sum::<usize>(), before, "nothing succeeded yet");
    nodes.iter().for_each(|n| n.set_mode(NORMAL));
    let deadline = Instant::now() + Duration::from_secs(10);
    while nodes.iter().map(Provider::counted).sum::<usize>() < before + 1 {
        assert!(Instant::now() < deadline, "the failed call was not retried to success");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_endpoints_and_unreachable_ones_say_so() {
    let channel = Channel::builder().endpoints(Vec::<String>::new()).timeout(Duration::from_secs(1)).build().unwrap();
    let status = client(channel).whoami().await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert!(status.message().contains("no provider"), "{status}");

    // A port bound but not listening (held for the test, so nobody else takes it): connecting
    // is refused, the endpoint is skipped, the call says why.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let dead = socket.local_addr().unwrap().to_string();
    let channel = Channel::builder().endpoints([dead.clone()]).timeout(Duration::from_secs(2)).build().unwrap();
    let status = client(channel).whoami().await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert!(status.message().contains(&dead), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retry_budget_caps_retries() {
    let nodes = providers(3).await;
    nodes.iter().for_each(|n| n.set_mode(FAILING));
    let channel = Channel::builder()
        .endpoints(addresses(&nodes, &[100, 100, 100]))
        .cluster(Cluster::Failover { retries: 2 })
        .circuit_breaker(BreakerConfig::disabled())
        .retry_budget(rpc::cluster::RetryBudget { ratio: 0.0, min_per_second: 0, window: Duration::from_secs(10) })
        .build()
        .unwrap();
    let client = client(channel);
    for _ in 0..50 {
        let status = client.whoami().await.unwrap_err();
        assert!(status.message().contains("retry budget exhausted"), "{status}");
    }
    assert_eq!(nodes.iter().map(Provider::calls).sum::<usize>(), 50, "no call was retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_method_balancers_and_version_filtering() {
    let nodes = providers(3).await;
    let registry = Arc::new(MemoryRegistry::new());
    for (node, version) in nodes.iter().zip(["1.0.0", "1.0.0", "2.0.0"]) {
        registry.register(Instance::new("test.Node", &node.addr).version(version)).await.unwrap();
    }
    let channel = Channel::builder()
        .registry(registry, "test.Node")
        .version("1.0.0")
        .load_balance(Balance::RoundRobin)
        .method("keyed", MethodConfig::new().balance(Balance::ConsistentHash { key: HashKey::Arg(0), vnodes: 160 }))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let client = client(channel);
    let counts = distribution(&client, 100).await;
    assert_eq!((counts.get("p0"), counts.get("p1"), counts.get("p2")), (Some(&50), Some(&50), None), "{counts:?}");
    let first = client.keyed("alice".into(), 0).await.unwrap();
    for n in 1..50 {
        assert_eq!(client.keyed("alice".into(), n).await.unwrap(), first, "keyed calls stick to one provider");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_provider_is_reconnected() {
    let mut node = Provider::start("first").await;
    let addr = node.addr.clone();
    let channel = Channel::builder()
        .endpoints([addr.clone()])
        .cluster(Cluster::Failfast)
        .reconnect_backoff(Duration::from_millis(20), Duration::from_millis(200))
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let client = client(channel.clone());
    assert_eq!(client.whoami().await.unwrap(), "first");
    node.kill();
    let status = client.whoami().await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status}");

    let _second = Provider::start_at("second", &addr).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match client.whoami().await {
            Ok(label) => {
                assert_eq!(label, "second");
                break;
            }
            Err(status) => assert!(Instant::now() < deadline, "never reconnected: {status}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(channel.endpoints()[0].connected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_that_would_leave_no_provider_waits_for_the_next_one() {
    use rpc::registry::InstanceSet;
    let (sets, received) = tokio::sync::mpsc::unbounded_channel::<InstanceSet>();
    let discover = Box::pin(futures_util::stream::unfold(received, |mut received| async move {
        received.recv().await.map(|set| (set, received))
    }));
    let channel = Channel::builder().discover(discover).build().unwrap();
    let directory = channel.directory().unwrap().clone();
    let set =
        |addresses: &[&str]| InstanceSet::diff(&[], addresses.iter().map(|a| Instance::new("test.Node", *a)).collect());
    sets.send(set(&["127.0.0.1:1"])).unwrap();
    assert!(directory.wait_for(1, Duration::from_secs(5)).await);

    // Providers re-registering: the old entry goes, then the new one comes. Never empty.
    sets.send(set(&[])).unwrap();
    sets.send(set(&["127.0.0.1:2"])).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while channel.endpoints().first().map(|e| e.address.as_str()) != Some("127.0.0.1:2") {
        assert!(!channel.endpoints().is_empty(), "the set was emptied in between");
        assert!(Instant::now() < deadline, "the new set never came: {:?}", channel.endpoints());
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    // Really gone: applied once the grace (1 s) has passed.
    let sent = Instant::now();
    sets.send(set(&[])).unwrap();
    assert!(directory.wait_for(0, Duration::from_secs(10)).await, "the empty set was never applied");
    assert!(sent.elapsed() >= Duration::from_secs(1), "applied after {:?}, within the grace", sent.elapsed());
}
