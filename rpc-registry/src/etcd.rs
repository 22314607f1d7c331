use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use etcd_client::{
    Certificate, Client, ConnectOptions, EventType, GetOptions, Identity, PutOptions, TlsOptions, WatchOptions,
};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::dubbo_instance::{record_path, DubboInstanceRecord};
use crate::dubbo_metadata::MetadataInfo;
use crate::dubbo_url::{as_consumer, category_path, node_path, parse_node};
use crate::registrations::{first_write, Registrations};
use crate::{
    ApplicationInstance, BoxFuture, Credentials, Instance, InstanceSet, InstanceStream, Registry, RegistryError,
};

/// Key prefix under which registrations live, unless configured: Dubbo's root.
pub const DEFAULT_PREFIX: &str = "/dubbo";
/// Lease TTL of a registration, unless configured.
pub const DEFAULT_TTL: Duration = Duration::from_secs(10);
/// Wait between attempts while etcd is unreachable.
const RETRY: Duration = Duration::from_millis(500);

/// Registrations in etcd (`etcd://host:port`), in the layout of Dubbo's etcd3 registry
/// (`dubbo-registry-etcd3`), so Dubbo's consumers and tooling on etcd see our providers: each
/// instance is a key `<prefix>/<service>/providers/<URL-encoded provider URL>` (the URL as in
/// ZooKeeper, parameters sorted) holding its lease id, attached to that lease, which the
/// provider keeps alive, so a provider that dies disappears when its lease expires. Consumers
/// are written under `<prefix>/<service>/consumers/` the same way. With
/// [`Registry::register_application`], an application instance is kept as Dubbo's
/// `EtcdServiceDiscovery` keeps it: a key `/services/{app}/{host:port}` on its own lease
/// holding Dubbo's `DefaultServiceInstance` JSON, its metadata stored `local` (Dubbo's etcd
/// keeps no application metadata, so consumers ask the provider's `MetadataService`). If etcd
/// is lost, the provider re-grants a lease and rewrites its keys once it is back. Subscribers
/// read the prefix and watch it from the revision they read: after a broken watch they read
/// again and watch from the new revision, so no change is missed.
#[derive(Clone)]
pub struct EtcdRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    prefix: String,
    ttl: Duration,
    registrations: Registrations,
}

/// How to reach an etcd that checks who calls it: a user and password (etcd's auth), and
/// TLS (the CA etcd's certificate must chain to, and a client certificate for etcd's
/// `--client-cert-auth`).
///
/// ```
/// # mod rpc { pub mod registry { pub use rpc_registry::*; } }
/// let mut security = rpc::registry::EtcdSecurity::default();
/// security.credentials = Some(rpc::registry::Credentials::new("root", "s3cret"));
/// security.ca = Some("etcd-ca.pem".into());
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct EtcdSecurity {
    /// Authenticate as this user.
    pub credentials: Option<Credentials>,
    /// Connect over TLS (`https://`), verifying etcd against the CAs in this PEM file.
    pub ca: Option<PathBuf>,
    /// Present this certificate chain and key (PEM files) to etcd.
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

impl EtcdRegistry {
    /// Connects to `endpoints` (`http://host:port`).
    pub async fn connect(endpoints: Vec<String>, prefix: String, ttl: Duration) -> Result<EtcdRegistry, RegistryError> {
        EtcdRegistry::connect_secured(endpoints, prefix, ttl, &EtcdSecurity::default()).await
    }

    /// [`connect`](Self::connect) to an etcd with auth or TLS: `endpoints` are
    /// `https://host:port` with a CA.
    pub async fn connect_secured(
        endpoints: Vec<String>,
        prefix: String,
        ttl: Duration,
        security: &EtcdSecurity,
    ) -> Result<EtcdRegistry, RegistryError> {
        let mut options = ConnectOptions::new()
            .with_connect_timeout(Duration::from_secs(3))
            .with_timeout(Duration::from_secs(5))
            .with_keep_alive(Duration::from_secs(2), Duration::from_secs(2));
        if let Some(credentials) = &security.credentials {
            options = options.with_user(credentials.username.clone(), credentials.password());
        }
        if let Some(ca) = &security.ca {
            let read = |path: &PathBuf| {
                std::fs::read(path)
                    .map_err(|e| RegistryError::Invalid(format!("etcd TLS file {}: {e}", path.display())))
            };
            let mut tls = TlsOptions::new().ca_certificate(Certificate::from_pem(read(ca)?));
            if let Some((cert, key)) = &security.client_cert {
                tls = tls.identity(Identity::from_pem(read(cert)?, read(key)?));
            }
            options = options.with_tls(tls);
        }
        let client = Client::connect(&endpoints, Some(options))
            .await
            .map_err(|e| RegistryError::Unavailable(format!("etcd {}: {e}", endpoints.join(","))))?;
        let ttl = ttl.max(Duration::from_secs(1));
        Ok(EtcdRegistry {
            inner: Arc::new(Inner {
                client,
                prefix: prefix.trim_end_matches('/').to_string(),
                ttl,
                registrations: Registrations::default(),
            }),
        })
    }

    fn service_prefix(&self, service: &str) -> String {
        format!("{}/", category_path(&self.inner.prefix, service, "providers"))
    }

    /// Keeps `instance` written under its service's `category` until withdrawn.
    async fn keep(&self, instance: &Instance, category: &str) -> Result<(), RegistryError> {
        self.keep_key(node_path(&self.inner.prefix, instance, category), None).await
    }

    /// Keeps `key` written under a live lease until withdrawn, holding `value` (the lease id
    /// when none, as Dubbo's etcd3 registry writes its keys).
    async fn keep_key(&self, key: String, value: Option<String>) -> Result<(), RegistryError> {
        let stop = CancellationToken::new();
        let (written, first) = watch::channel(false);
        tokio::spawn(keep_registered(self.inner.clone(), key.clone(), value, stop.clone(), written));
        self.inner.registrations.insert(key, stop);
        first_write(first, "etcd").await
    }

    /// Stops keeping `instance` and deletes its key.
    async fn withdraw(&self, instance: &Instance, category: &str) -> Result<(), RegistryError> {
        self.withdraw_key(node_path(&self.inner.prefix, instance, category)).await
    }

    /// Stops keeping `key` and deletes it.
    async fn withdraw_key(&self, key: String) -> Result<(), RegistryError> {
        self.inner.registrations.remove(&key);
        let mut client = self.inner.client.clone();
        client.delete(key.as_str(), None).await.map_err(|e| RegistryError::Unavailable(format!("etcd delete: {e}")))?;
        Ok(())
    }
}

impl Registry for EtcdRegistry {
    fn register(&self, instance: Instance) -> BoxFuture<'_, Result<(), RegistryError>> {
        Box::pin(async move { self.keep(&instance, "providers").await })
    }

    fn deregister(&self, instance: &Instance) -> BoxFuture<'_, Result<(), RegistryError>> {
        let instance = instance.clone();
        Box::pin(async move { self.withdraw(&instance, "providers").await })
    }

    /// A key `<prefix>/{service}/consumers/{consumer://host/service?…}`, as Dubbo's etcd3
    /// registry writes consumers.
    fn register_consumer(&self, consumer: Instance) -> BoxFuture<'_, Result<(), RegistryError>> {
        let consumer = as_consumer(&consumer);
        Box::pin(async move { self.keep(&consumer, "consumers").await })
    }

    fn deregister_consumer(&self, consumer: &Instance) -> BoxFuture<'_, Result<(), RegistryError>> {
        let consumer = as_consumer(consumer);
        Box::pin(async move { self.withdraw(&consumer, "consumers").await })
    }

    /// Dubbo 3's application-level registration in etcd (see [`EtcdRegistry`]).
    fn register_application(&self, instance: ApplicationInstance) -> BoxFuture<'_, Result<(), RegistryError>> {
        let revision = MetadataInfo::of(&instance).revision;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64;
        let record = DubboInstanceRecord::of(&instance, &revision, now).to_json();
        Box::pin(async move { self.keep_key(record_path(&instance), Some(record)).await })
    }

    fn deregister_application(&self, instance: &ApplicationInstance) -> BoxFuture<'_, Result<(), RegistryError>> {
        let key = record_path(instance);
        Box::pin(async move { self.withdraw_key(key).await })
    }

    fn subscribe(&self, service: &str) -> BoxFuture<'_, Result<InstanceStream, RegistryError>> {
        let prefix = self.service_prefix(service);
        let client = self.inner.client.clone();
        let service = service.to_string();
        Box::pin(async move {
            let (sender, receiver) = mpsc::channel(16);
            tokio::spawn(follow(client, service, prefix, sender));
            Ok(Box::pin(tokio_stream::wrappers::ReceiverStream::new(receiver)) as InstanceStream)
        })
    }
}

/// Keeps `key` written under a live lease (holding `value`, else the lease id, as Dubbo writes
/// it) until stopped: grant, put, keep alive every third of the TTL; after any failure start
/// over. On stop, the key is deleted and the lease revoked.
async fn keep_registered(
    inner: Arc<Inner>,
    key: String,
    value: Option<String>,
    stop: CancellationToken,
    written: watch::Sender<bool>,
) {
    let ttl_secs = inner.ttl.as_secs().max(1) as i64;
    let mut lease_id = None;
    loop {
        let attempt = async {
            let mut client = inner.client.clone();
            let lease = client.lease_grant(ttl_secs, None).await?;
            lease_id = Some(lease.id());
            let data = value.clone().unwrap_or_else(|| lease.id().to_string());
            client.put(key.as_str(), data, Some(PutOptions::new().with_lease(lease.id()))).await?;
            let _ = written.send(true);
            tracing::debug!(%key, lease = lease.id(), "registered in etcd");
            let (mut keeper, mut responses) = client.lease_keep_alive(lease.id()).await?;
            let mut ticks = tokio::time::interval(inner.ttl / 3);
            loop {
                ticks.tick().await;
                keeper.keep_alive().await?;
                match responses.message().await? {
                    Some(response) if response.ttl() > 0 => {}
                    // The lease is gone (expired during an outage): register again.
                    _ => return Ok::<(), etcd_client::Error>(()),
                }
            }
        };
        tokio::select! {
            _ = stop.cancelled() => break,
            result = attempt => {
                if let Err(e) = result {
                    tracing::warn!(%key, error = %e, "etcd registration lost; retrying");
                }
            }
        }
        tokio::select! {
            _ = stop.cancelled() => break,
            () = tokio::time::sleep(RETRY) => {}
        }
    }
    let mut client = inner.client.clone();
    if let Some(id) = lease_id {
        let _ = client.lease_revoke(id).await;
    }
}

/// Sends the service's set at once and after every change, across broken watches and etcd
/// restarts, until the receiver is dropped.
async fn follow(mut client: Client, service: String, prefix: String, sender: mpsc::Sender<InstanceSet>) {
    let mut previous: Option<Vec<Instance>> = None;
    loop {
        if let Err(e) = read_and_watch(&mut client, &service, &prefix, &sender, &mut previous).await {
            tracing::warn!(%prefix, error = %e, "etcd watch broken; keeping the last set and retrying");
        }
        if sender.is_closed() {
            return;
        }
        tokio::select! {
            () = sender.closed() => return,
            () = tokio::time::sleep(RETRY) => {}
        }
    }
}

/// One read of the prefix, then its watch from the revision after that read.
async fn read_and_watch(
    client: &mut Client,
    service: &str,
    prefix: &str,
    sender: &mpsc::Sender<InstanceSet>,
    previous: &mut Option<Vec<Instance>>,
) -> Result<(), etcd_client::Error> {
    let read = client.get(prefix, Some(GetOptions::new().with_prefix())).await?;
    let revision = read.header().map_or(0, |h| h.revision());
    let mut current: BTreeMap<Vec<u8>, Instance> =
        read.kvs().iter().filter_map(|kv| parse(service, prefix, kv.key()).map(|i| (kv.key().to_vec(), i))).collect();
    if !publish(sender, previous, &current).await {
        return Ok(());
    }
    let options = WatchOptions::new().with_prefix().with_start_revision(revision + 1);
    let (_watcher, mut events) = client.watch(prefix, Some(options)).await?;
    loop {
        let response = tokio::select! {
            () = sender.closed() => return Ok(()),
            response = events.message() => response?,
        };
        let Some(response) = response else { return Ok(()) };
        if response.canceled() {
            return Ok(());
        }
        for event in response.events() {
            let Some(kv) = event.kv() else { continue };
            match event.event_type() {
                EventType::Put => {
                    if let Some(instance) = parse(service, prefix, kv.key()) {
                        current.insert(kv.key().to_vec(), instance);
                    }
                }
                EventType::Delete => {
                    current.remove(kv.key());
                }
            }
        }
        if !publish(sender, previous, &current).await {
            return Ok(());
        }
    }
}

/// The instance a key directly under `prefix` names; keys further down, or unreadable, are
/// skipped (as Dubbo's etcd3 registry lists only direct children).
fn parse(service: &str, prefix: &str, key: &[u8]) -> Option<Instance> {
    let node = std::str::from_utf8(key).ok()?.strip_prefix(prefix)?;
    if node.contains('/') {
        return None;
    }
    let instance = parse_node(service, node);
    if instance.is_none() {
        tracing::debug!(node, "skipping an unreadable etcd key");
    }
    instance
}

/// Sends `current` if it differs from what was sent last; false once nobody listens.
async fn publish(
    sender: &mpsc::Sender<InstanceSet>,
    previous: &mut Option<Vec<Instance>>,
    current: &BTreeMap<Vec<u8>, Instance>,
) -> bool {
    let mut instances: Vec<Instance> = current.values().cloned().collect();
    instances.sort();
    if previous.as_ref() == Some(&instances) {
        return true;
    }
    let set = InstanceSet::diff(previous.as_deref().unwrap_or(&[]), instances.clone());
    *previous = Some(instances);
    sender.send(set).await.is_ok()
}
