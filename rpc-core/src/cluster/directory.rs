use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use futures_util::StreamExt;
use rpc_registry::{Instance, InstanceSet};
use tokio::sync::Notify;
use tokio_util::sync::{CancellationToken, DropGuard};
use tracing::Instrument;

use super::balance::{self, Balance, Candidates, Picker};
use super::core::Core;
use super::{BreakerConfig, Discover, Endpoint, EndpointInfo, PoolConfig};
use crate::transport::Protocol;
use crate::{Request, Status};

/// What the directory needs to turn instances into endpoints and balancers.
#[derive(Debug, Clone)]
pub(crate) struct DirectorySettings {
    /// The balancers snapshots carry: index 0 is the channel's, the others per-method ones.
    pub(crate) balances: Vec<Balance>,
    pub(crate) warmup: Duration,
    pub(crate) pool: PoolConfig,
    pub(crate) breaker: BreakerConfig,
    /// Only instances of this version / group (when set) are used.
    pub(crate) version: Option<String>,
    pub(crate) group: Option<String>,
    /// The protocol to speak to every endpoint; `None`: the one each instance registered
    /// (instances of protocols we do not speak are ignored).
    pub(crate) protocol: Option<Protocol>,
    /// Where the endpoints come from, for errors: `the registry's "demo.Greeter"`.
    pub(crate) source: Arc<str>,
    /// The service followed (the `service` label of discovery's metrics); may be empty.
    pub(crate) service: Arc<str>,
}

/// The live endpoint set of a cluster channel. A task follows the discovery stream and, on
/// every change, publishes a new immutable snapshot (endpoints kept by address, so their
/// breakers and connections survive; balancers rebuilt for the new set). Calls read the
/// current snapshot through one atomic pointer load. When discovery goes quiet or ends —
/// a registry outage — the last set stays in use.
pub struct Directory {
    snapshot: ArcSwap<Snapshot>,
    /// Set once the first endpoint set has arrived.
    discovered: AtomicBool,
    changed: Notify,
    settings: DirectorySettings,
    /// The cluster this directory serves, handed to every snapshot.
    cluster: Weak<Core>,
    _stop: DropGuard,
}

/// One endpoint set and the balancers built for it.
pub(crate) struct Snapshot {
    pub(crate) endpoints: Vec<Arc<Endpoint>>,
    pickers: Vec<Box<dyn Picker>>,
    /// The cluster (directory, settings, retry budget) the snapshot belongs to: a call that
    /// holds its snapshot reaches it from here for a retry instead of holding it too — one
    /// reference count less to raise and drop per call. Weak, as the cluster holds the
    /// directory that holds the snapshot.
    cluster: Weak<Core>,
    /// Where the endpoints come from ([`DirectorySettings::source`]).
    source: Arc<str>,
}

impl Snapshot {
    fn build(endpoints: Vec<Arc<Endpoint>>, settings: &DirectorySettings, cluster: &Weak<Core>) -> Snapshot {
        let now = Instant::now();
        let pickers = settings.balances.iter().map(|b| balance::build(b, &endpoints, settings.warmup, now)).collect();
        Snapshot { endpoints, pickers, cluster: cluster.clone(), source: settings.source.clone() }
    }

    /// The cluster the snapshot belongs to, unless every channel on it has been dropped.
    pub(crate) fn cluster(&self) -> Option<Arc<Core>> {
        self.cluster.upgrade()
    }

    /// The endpoint balancer `balancer` chooses for `request`, avoiding `tried` unless
    /// nothing else is left.
    pub(crate) fn pick(&self, balancer: usize, request: &Request, tried: &[usize]) -> Option<usize> {
        // One endpoint: every balancer would pick it if it is available (a retry included, as
        // nothing else is left), so none is asked: its bookkeeping (a random draw, a counter)
        // would be pure cost.
        if let [only] = &self.endpoints[..] {
            return only.is_available().then_some(0);
        }
        let picker = self.pickers.get(balancer).or_else(|| self.pickers.first())?;
        let fresh = Candidates { endpoints: &self.endpoints, excluded: tried };
        picker.pick(&fresh, request).or_else(|| {
            (!tried.is_empty())
                .then(|| picker.pick(&Candidates { endpoints: &self.endpoints, excluded: &[] }, request))
                .flatten()
        })
    }

    /// Why no endpoint could be picked, for the caller's error.
    pub(crate) fn none_available(&self, service: &str) -> Status {
        if self.endpoints.is_empty() {
            let source = &self.source;
            return Status::unavailable(format!("no provider of {service} is known ({source} lists none)")).not_sent();
        }
        let open: Vec<&str> =
            self.endpoints.iter().filter(|e| !e.breaker.is_available()).map(|e| e.address()).collect();
        let down: Vec<&str> = self
            .endpoints
            .iter()
            .filter(|e| e.breaker.is_available() && !e.pool.is_usable())
            .map(|e| e.address())
            .collect();
        let mut reasons = Vec::new();
        if !open.is_empty() {
            reasons.push(format!("circuit breaker open: {}", open.join(", ")));
        }
        if !down.is_empty() {
            reasons.push(format!("unreachable: {}", down.join(", ")));
        }
        Status::unavailable(format!(
            "all {} providers of {service} are unavailable ({}); failing fast",
            self.endpoints.len(),
            reasons.join("; ")
        ))
        .not_sent()
    }
}

impl Directory {
    /// Starts following `discover` for `cluster`; needs a tokio runtime.
    pub(crate) fn start(discover: Discover, settings: DirectorySettings, cluster: Weak<Core>) -> Arc<Directory> {
        let stop = CancellationToken::new();
        let empty = Snapshot::build(Vec::new(), &settings, &cluster);
        let directory = Arc::new(Directory {
            snapshot: ArcSwap::from_pointee(empty),
            discovered: AtomicBool::new(false),
            changed: Notify::new(),
            settings,
            cluster,
            _stop: stop.clone().drop_guard(),
        });
        let span = tracing::debug_span!("rpc.discovery");
        tokio::spawn(follow(Arc::downgrade(&directory), discover, stop).instrument(span));
        metrics::gauge!("rpc_registry_subscriptions").increment(1.0);
        directory
    }

    /// The service it follows (empty for an unnamed endpoint list).
    pub fn service(&self) -> &str {
        &self.settings.service
    }

    /// The current snapshot, if discovery has delivered a first set (never waits).
    pub(crate) fn current(&self) -> Option<Arc<Snapshot>> {
        self.discovered.load(Ordering::Acquire).then(|| self.snapshot.load_full())
    }

    /// The current snapshot, once discovery has delivered a first set (waiting until
    /// `deadline` for it).
    pub(crate) async fn ready_snapshot(&self, deadline: Option<Instant>) -> Result<Arc<Snapshot>, Status> {
        // The common case first: registering for wake-ups takes the Notify's lock.
        if self.discovered.load(Ordering::Acquire) {
            return Ok(self.snapshot.load_full());
        }
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.discovered.load(Ordering::Acquire) {
                return Ok(self.snapshot.load_full());
            }
            let wait = match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline.into(), changed).await.is_ok(),
                None => {
                    changed.await;
                    true
                }
            };
            if !wait {
                return Err(
                    Status::deadline_exceeded("deadline passed waiting for discovery's first endpoint set").not_sent()
                );
            }
        }
    }

    /// The endpoints in use now.
    pub fn endpoints(&self) -> Vec<EndpointInfo> {
        self.snapshot.load().endpoints.iter().map(|e| e.info()).collect()
    }

    /// Waits for discovery's first endpoint set; false on timeout.
    pub async fn discovered(&self, timeout: Duration) -> bool {
        self.ready_snapshot(Some(Instant::now() + timeout)).await.is_ok()
    }

    /// Waits until the set has `count` endpoints (tests, examples); false on timeout.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> bool {
        let give_up = Instant::now() + timeout;
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.snapshot.load().endpoints.len() == count && self.discovered.load(Ordering::Acquire) {
                return true;
            }
            if tokio::time::timeout_at(give_up.into(), changed).await.is_err() {
                return false;
            }
        }
    }

    fn accepts(&self, instance: &Instance) -> bool {
        let s = &self.settings;
        Protocol::from_registry_name(&instance.protocol).is_some()
            && s.version.as_ref().is_none_or(|v| v.is_empty() || *v == instance.version)
            && s.group.as_ref().is_none_or(|g| *g == instance.group)
    }

    /// Whether `set` would take away every endpoint the directory has now.
    fn would_empty(&self, set: &InstanceSet) -> bool {
        !self.snapshot.load().endpoints.is_empty() && !set.instances.iter().any(|i| self.accepts(i))
    }

    /// Counts a set discovery delivered, and when (`time() - …` in PromQL is its age).
    fn record_event(&self, set: &InstanceSet) {
        let service = self.settings.service.to_string();
        metrics::counter!("rpc_registry_events_total", "service" => service.clone()).increment(1);
        metrics::gauge!("rpc_registry_instances", "service" => service.clone()).set(set.instances.len() as f64);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        metrics::gauge!("rpc_registry_last_update_timestamp_seconds", "service" => service).set(now.as_secs_f64());
    }

    fn apply(&self, set: InstanceSet) {
        let current = self.snapshot.load();
        let mut by_address: HashMap<&str, &Arc<Endpoint>> =
            current.endpoints.iter().map(|e| (e.address(), e)).collect();
        let mut endpoints = Vec::with_capacity(set.instances.len());
        // One endpoint per address: a provider that registers several protocols there
        // (`rpc://`, `tri://`, `dubbo://`) is called over the one we prefer.
        let mut accepted: Vec<&Instance> = set.instances.iter().filter(|i| self.accepts(i)).collect();
        accepted.sort_by_key(|i| Protocol::from_registry_name(&i.protocol).map(Protocol::preference));
        for instance in accepted {
            match by_address.remove(instance.address.as_str()) {
                Some(existing) => {
                    existing.set_weight(instance.weight);
                    endpoints.push(existing.clone());
                }
                None if endpoints.iter().any(|e: &Arc<Endpoint>| e.address() == instance.address) => {}
                None => {
                    let track_latency = self.settings.balances.contains(&Balance::PeakEwma);
                    let protocol = self.settings.protocol.or(Protocol::from_registry_name(&instance.protocol));
                    let mut pool = self.settings.pool.clone();
                    pool.connection.protocol = protocol.unwrap_or_default();
                    if pool.connection.tls.is_none() && advertises_tls(instance) {
                        pool.connection.tls = crate::tls::ClientTls::system_default();
                    }
                    let endpoint = Endpoint::new(instance, &pool, self.settings.breaker, track_latency);
                    endpoints.push(Arc::new(endpoint));
                }
            }
        }
        tracing::info!(
            endpoints = endpoints.len(),
            added = set.added.len(),
            removed = set.removed.len(),
            "endpoint set changed"
        );
        self.snapshot.store(Arc::new(Snapshot::build(endpoints, &self.settings, &self.cluster)));
        self.discovered.store(true, Ordering::Release);
        self.changed.notify_waiters();
    }

    /// Rebuilds the balancers for the same endpoints (warm-up weights moved on).
    fn rebuild(&self) {
        let endpoints = self.snapshot.load().endpoints.clone();
        self.snapshot.store(Arc::new(Snapshot::build(endpoints, &self.settings, &self.cluster)));
    }

    fn warming(&self) -> bool {
        let now = Instant::now();
        self.snapshot.load().endpoints.iter().any(|e| e.warming(self.settings.warmup, now))
    }
}

/// How long a set that would leave no endpoint waits for the next one before it is applied.
/// A registry passes through an empty set when providers re-register after an outage (their
/// old entries go before the new ones come; ZooKeeper's ephemeral nodes, etcd's leases) or
/// when the last provider is replaced: applied at once, that moment fails every call.
const EMPTY_SET_GRACE: Duration = Duration::from_secs(1);

/// Applies every set discovery yields until the directory is dropped; meanwhile, while some
/// endpoint is warming up, rebuilds the balancers twenty times per warm-up period. A set that
/// would leave no endpoint is held for [`EMPTY_SET_GRACE`], and dropped if another set comes.
async fn follow(directory: Weak<Directory>, mut discover: Discover, stop: CancellationToken) {
    let mut ended = false;
    let mut held: Option<(InstanceSet, Instant)> = None;
    loop {
        let (warming, tick) = match directory.upgrade() {
            Some(d) => (d.warming(), (d.settings.warmup / 20).max(Duration::from_millis(50))),
            None => return,
        };
        let held_until = held.as_ref().map(|(_, until)| *until);
        tokio::select! {
            _ = stop.cancelled() => return,
            set = discover.next(), if !ended => match (set, directory.upgrade()) {
                (Some(set), Some(d)) => {
                    d.record_event(&set);
                    if d.would_empty(&set) {
                        // Keeps the first deadline: a stream of empty sets is applied in time.
                        let until = held_until.unwrap_or_else(|| Instant::now() + EMPTY_SET_GRACE);
                        tracing::info!(grace = ?EMPTY_SET_GRACE, "discovery reports no provider; holding the last set a moment");
                        held = Some((set, until));
                    } else {
                        held = None;
                        d.apply(set);
                    }
                }
                (None, _) => {
                    metrics::counter!("rpc_registry_errors_total", "service" => discovered_service(&directory)).increment(1);
                    tracing::warn!("discovery ended; keeping the last endpoint set");
                    ended = true;
                }
                (_, None) => return,
            },
            () = sleep_until_held(held_until) => {
                if let (Some((set, _)), Some(d)) = (held.take(), directory.upgrade()) {
                    d.apply(set);
                }
            }
            () = tokio::time::sleep(tick), if warming => {
                if let Some(d) = directory.upgrade() {
                    d.rebuild();
                }
            }
        }
    }
}

/// The service a directory follows, as its metrics name it.
fn discovered_service(directory: &Weak<Directory>) -> String {
    directory.upgrade().map(|d| d.settings.service.to_string()).unwrap_or_default()
}

/// Completes at `until`; never without one.
async fn sleep_until_held(until: Option<Instant>) {
    match until {
        Some(until) => tokio::time::sleep_until(until.into()).await,
        None => std::future::pending().await,
    }
}

/// Whether a provider registered that it serves TLS (Dubbo's `ssl-enabled=true`).
fn advertises_tls(instance: &Instance) -> bool {
    instance.metadata.get("ssl-enabled").is_some_and(|value| value == "true")
}

impl Drop for Directory {
    fn drop(&mut self) {
        metrics::gauge!("rpc_registry_subscriptions").decrement(1.0);
    }
}
