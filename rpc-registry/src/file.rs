use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::registrations::Registrations;
use crate::{BoxFuture, Instance, InstanceSet, InstanceStream, Registry, RegistryError};

/// How long a record lives without a heartbeat, unless configured.
pub const DEFAULT_TTL: Duration = Duration::from_secs(10);

/// The embedded default registry: a directory shared by the processes of one host, no server.
///
/// Each registration is a small JSON file, `<root>/<service>/<protocol>_<address>_<version>_<group>.json`,
/// written atomically (temp file + rename) and rewritten by a heartbeat every third of the TTL.
/// A record whose heartbeat is older than the TTL is stale: readers ignore and delete it, so
/// a provider killed without deregistering disappears after one TTL. Subscribers watch the
/// service's directory (inotify through the `notify` crate) and also rescan periodically —
/// the fallback when watching is unavailable, and how expiry is noticed (a stale file makes
/// no event).
///
/// ```no_run
/// # mod rpc { pub mod registry { pub use rpc_registry::*; } }
/// # async fn run() -> Result<(), rpc::registry::RegistryError> {
/// use rpc::registry::{FileRegistry, Instance, Registry};
/// let registry = FileRegistry::new(std::env::temp_dir().join("rpc-registry"));
/// registry.register(Instance::new("demo.Greeter", "127.0.0.1:20880")).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct FileRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    ttl: Duration,
    /// Heartbeat tasks of this process's registrations, by record path.
    heartbeats: Registrations,
}

/// A record as stored: the instance and when its provider last said it is alive.
#[derive(serde::Serialize, serde::Deserialize)]
struct Record {
    instance: Instance,
    /// Milliseconds since the Unix epoch.
    heartbeat_ms: u64,
    /// The TTL the provider promised to beat within.
    ttl_ms: u64,
}

impl FileRegistry {
    /// A registry in `root` with the default TTL (10 s).
    pub fn new(root: impl Into<PathBuf>) -> FileRegistry {
        FileRegistry::with_ttl(root, DEFAULT_TTL)
    }

    /// The default location: `rpc-registry` under the system temp dir.
    pub fn default_dir() -> PathBuf {
        std::env::temp_dir().join("rpc-registry")
    }

    /// A registry in `root` whose records live `ttl` without a heartbeat.
    pub fn with_ttl(root: impl Into<PathBuf>, ttl: Duration) -> FileRegistry {
        let ttl = ttl.max(Duration::from_millis(100));
        FileRegistry { inner: Arc::new(Inner { root: root.into(), ttl, heartbeats: Registrations::default() }) }
    }

    /// The directory records live in.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    fn service_dir(&self, service: &str) -> PathBuf {
        self.inner.root.join(file_name(service))
    }

    fn record_path(&self, instance: &Instance) -> PathBuf {
        let name = [&instance.protocol, &instance.address, &instance.version, &instance.group]
            .map(|part| file_name(part))
            .join("_");
        self.service_dir(&instance.service).join(format!("{name}.json"))
    }
}

impl Registry for FileRegistry {
    fn register(&self, instance: Instance) -> BoxFuture<'_, Result<(), RegistryError>> {
        Box::pin(async move {
            if instance.service.is_empty() || instance.address.is_empty() {
                return Err(RegistryError::Invalid("an instance needs a service and an address".into()));
            }
            let path = self.record_path(&instance);
            let ttl = self.inner.ttl;
            write_record(&path, &instance, ttl).await?;
            let stop = CancellationToken::new();
            tokio::spawn(heartbeat(path.clone(), instance, ttl, stop.clone()));
            self.inner.heartbeats.insert(path.display().to_string(), stop);
            Ok(())
        })
    }

    fn deregister(&self, instance: &Instance) -> BoxFuture<'_, Result<(), RegistryError>> {
        let path = self.record_path(instance);
        Box::pin(async move {
            self.inner.heartbeats.remove(&path.display().to_string());
            match tokio::fs::remove_file(&path).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(RegistryError::Unavailable(format!("remove {}: {e}", path.display()))),
            }
        })
    }

    fn subscribe(&self, service: &str) -> BoxFuture<'_, Result<InstanceStream, RegistryError>> {
        let dir = self.service_dir(service);
        let ttl = self.inner.ttl;
        Box::pin(async move {
            tokio::fs::create_dir_all(&dir)
                .await
                .map_err(|e| RegistryError::Unavailable(format!("create {}: {e}", dir.display())))?;
            Ok(watch(dir, ttl))
        })
    }
}

/// Rewrites the record every third of the TTL until stopped; recreates it if it was removed
/// by someone who took it for stale (a long pause of this process, say).
async fn heartbeat(path: PathBuf, instance: Instance, ttl: Duration, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(ttl / 3);
    ticks.tick().await;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticks.tick() => {
                if let Err(e) = write_record(&path, &instance, ttl).await {
                    tracing::warn!(path = %path.display(), error = %e, "file registry heartbeat failed");
                }
            }
        }
    }
}

async fn write_record(path: &Path, instance: &Instance, ttl: Duration) -> Result<(), RegistryError> {
    let unavailable =
        |what: &str, e: std::io::Error| RegistryError::Unavailable(format!("{what} {}: {e}", path.display()));
    let dir = path.parent().ok_or_else(|| RegistryError::Invalid(format!("no directory in {}", path.display())))?;
    tokio::fs::create_dir_all(dir).await.map_err(|e| unavailable("create dir for", e))?;
    let record = Record { instance: instance.clone(), heartbeat_ms: now_ms(), ttl_ms: ttl.as_millis() as u64 };
    let json = serde_json::to_vec(&record).map_err(|e| RegistryError::Invalid(e.to_string()))?;
    // Unique per writer, so two processes never interleave; rename is atomic on one filesystem.
    let temp = path.with_extension(format!("tmp.{}.{}", std::process::id(), fastrand_suffix()));
    tokio::fs::write(&temp, json).await.map_err(|e| unavailable("write", e))?;
    tokio::fs::rename(&temp, path).await.map_err(|e| unavailable("rename to", e))
}

/// Distinguishes temp files of one process's concurrent writes.
fn fastrand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64
}

/// The live instances in `dir`: fresh records only; stale ones are deleted on the way.
async fn scan(dir: &Path) -> Vec<Instance> {
    let mut instances = Vec::new();
    let Ok(mut entries) = tokio::fs::read_dir(dir).await else { return instances };
    let now = now_ms();
    while let Ok(Some(entry)) = entries.next_entry().await {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        // A record being replaced may be missing for an instant; the next scan sees it.
        let Ok(bytes) = tokio::fs::read(&path).await else { continue };
        let Ok(record) = serde_json::from_slice::<Record>(&bytes) else {
            tracing::debug!(path = %path.display(), "skipping an unreadable registry record");
            continue;
        };
        if now.saturating_sub(record.heartbeat_ms) > record.ttl_ms {
            tracing::info!(address = %record.instance.address, "removing a stale registry record (no heartbeat within its TTL)");
            let _ = tokio::fs::remove_file(&path).await;
            continue;
        }
        instances.push(record.instance);
    }
    instances.sort();
    instances
}

/// The sets of `dir`: one at once, then one per change, from filesystem events and a rescan
/// every `min(ttl / 4, 500 ms)`.
fn watch(dir: PathBuf, ttl: Duration) -> InstanceStream {
    let (events, mut changed) = mpsc::channel::<()>(1);
    let watcher = start_watcher(&dir, events);
    let poll = (ttl / 4).min(Duration::from_millis(500));
    let sets = async_stream(move |sender: mpsc::Sender<InstanceSet>| async move {
        // Owned here so watching lasts as long as the stream.
        let _watcher = watcher;
        let mut previous: Option<Vec<Instance>> = None;
        let mut ticks = tokio::time::interval(poll);
        loop {
            let current = scan(&dir).await;
            if previous.as_ref() != Some(&current) {
                let set = InstanceSet::diff(previous.as_deref().unwrap_or(&[]), current.clone());
                if sender.send(set).await.is_err() {
                    return;
                }
                previous = Some(current);
            }
            tokio::select! {
                _ = ticks.tick() => {}
                Some(()) = changed.recv() => {}
                () = sender.closed() => return,
            }
        }
    });
    Box::pin(sets)
}

/// A stream fed by a task running `body` (which ends when the stream is dropped).
fn async_stream<F, Fut>(body: F) -> impl futures_core::Stream<Item = InstanceSet> + Send
where
    F: FnOnce(mpsc::Sender<InstanceSet>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (sender, receiver) = mpsc::channel(16);
    tokio::spawn(body(sender));
    tokio_stream::wrappers::ReceiverStream::new(receiver).fuse()
}

/// Watches `dir` for changes, nudging `events`; `None` if the platform watcher is unavailable
/// (then the periodic rescan alone keeps subscribers current).
fn start_watcher(dir: &Path, events: mpsc::Sender<()>) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher;
    let handler = move |_: notify::Result<notify::Event>| {
        // Full means a rescan is already due.
        let _ = events.try_send(());
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(watcher) => watcher,
        Err(e) => {
            tracing::warn!(error = %e, "file registry: no filesystem watcher; polling");
            return None;
        }
    };
    match watcher.watch(dir, notify::RecursiveMode::NonRecursive) {
        Ok(()) => Some(watcher),
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "file registry: cannot watch; polling");
            None
        }
    }
}

/// `part` as one safe file-name component: alphanumerics, `-` and `.` kept, the rest as `%XX`.
pub(crate) fn file_name(part: &str) -> String {
    let mut name = String::with_capacity(part.len());
    for byte in part.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'.' {
            name.push(byte as char);
        } else {
            name.push_str(&format!("%{byte:02X}"));
        }
    }
    if name.is_empty() || name == "." || name == ".." {
        name.insert(0, '%');
    }
    name
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::StreamExt;

    use super::{file_name, FileRegistry};
    use crate::{Instance, Registry};

    /// A fresh registry directory, removed when the test ends (passed or not).
    struct TempRoot(std::path::PathBuf);

    impl TempRoot {
        fn new() -> TempRoot {
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
            TempRoot(std::env::temp_dir().join(format!("rpc-registry-test-{}-{nanos}", std::process::id())))
        }
    }

    impl Drop for TempRoot {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn file_names_are_one_safe_component() {
        assert_eq!(file_name("127.0.0.1:80"), "127.0.0.1%3A80");
        assert_eq!(file_name("a/../b"), "a%2F..%2Fb");
        assert_eq!(file_name(".."), "%..");
        assert_eq!(file_name(""), "%");
    }

    #[tokio::test]
    async fn registrations_are_seen_and_stale_records_expire() {
        // A 2 s TTL: heartbeats every 667 ms, so a record expires here only if one is over
        // 1.3 s late, which a loaded test machine does not do (400 ms left it 270 ms).
        let ttl = Duration::from_secs(2);
        let root = TempRoot::new();
        let registry = FileRegistry::with_ttl(&root.0, ttl);
        let mut sets = registry.subscribe("svc").await.unwrap();
        assert!(sets.next().await.unwrap().instances.is_empty());

        let a = Instance::new("svc", "127.0.0.1:1");
        registry.register(a.clone()).await.unwrap();
        let set = tokio::time::timeout(Duration::from_secs(5), sets.next()).await.unwrap().unwrap();
        assert_eq!(set.added, vec![a.clone()]);

        // Heartbeats keep it past two TTLs.
        tokio::time::sleep(ttl * 2 + ttl / 4).await;
        let other = FileRegistry::with_ttl(&root.0, ttl);
        let mut fresh = other.subscribe("svc").await.unwrap();
        assert_eq!(fresh.next().await.unwrap().instances, vec![a.clone()]);

        // A provider that dies without deregistering: its heartbeat stops, the record expires.
        drop(registry);
        let set = tokio::time::timeout(ttl * 5, sets.next()).await.unwrap().unwrap();
        assert_eq!(set.removed, vec![a]);
    }
}
