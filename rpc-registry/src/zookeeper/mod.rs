use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio_util::sync::{CancellationToken, DropGuard};
use zookeeper_client as zk;
// Links the tokio spawner zookeeper-client finds through `spawns`.
use spawns as _;

use crate::dubbo_url::{as_consumer, category_path, node_path, parse_node};
use crate::registrations::{first_write, Registrations};
use crate::{
    ApplicationInstance, BoxFuture, Credentials, Instance, InstanceStream, MetadataClient, Registry, RegistryError,
};

mod application;
mod follow;
mod node;

use node::{keep_node, Node};

/// Session timeout, unless configured: a provider that dies disappears after about this long.
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(10);
/// Wait between attempts while ZooKeeper is unreachable.
const RETRY: Duration = Duration::from_millis(500);

/// A live session: its client, and a number that changes when a session is replaced.
type Session = Option<(u64, SessionClient)>;

/// A session's client, with the ACLs of the nodes it creates: with credentials, Dubbo's
/// `CREATOR_ALL_ACL` (only that digest user may read or change them, as Dubbo's
/// `CuratorZookeeperClient` sets them), otherwise open to anyone.
#[derive(Clone)]
pub(super) struct SessionClient {
    client: zk::Client,
    acls: zk::Acls<'static>,
}

impl SessionClient {
    pub(super) fn persistent(&self) -> zk::CreateOptions<'static> {
        zk::CreateMode::Persistent.with_acls(self.acls)
    }

    pub(super) fn ephemeral(&self) -> zk::CreateOptions<'static> {
        zk::CreateMode::Ephemeral.with_acls(self.acls)
    }
}

impl std::ops::Deref for SessionClient {
    type Target = zk::Client;

    fn deref(&self) -> &zk::Client {
        &self.client
    }
}

/// Registrations in ZooKeeper (`zookeeper://host:port`), in the layout Apache Dubbo uses, so
/// Dubbo's tooling sees our providers: an ephemeral node
/// `/dubbo/{service}/providers/{url-encoded provider URL}` per instance, the URL being
/// `{protocol}://host:port/service?…` with the parameters of the instance (for `tri://` and
/// `dubbo://` registrations, those a Java Dubbo consumer matches on).
/// With [`Registry::register_application`], an application instance is kept in Dubbo 3's
/// application-level layout too: `/services/{app}/{host:port}` (Curator's instance JSON),
/// `/dubbo/mapping/{service}` and `/dubbo/metadata/{app}/{revision}`. A subscription reads
/// both layouts.
/// A provider that dies loses its session and its nodes with it. A task keeps one session
/// alive; when it expires, a new one is made, registrations are written again and
/// subscriptions re-read; child watches are re-armed after every event.
#[derive(Clone)]
pub struct ZookeeperRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    session: watch::Receiver<Session>,
    registrations: Registrations,
    metadata_client: MetadataClientSlot,
    _keeper: DropGuard,
}

/// The [`MetadataClient`] subscriptions ask for `local` metadata, once a channel has handed
/// one over.
pub(super) type MetadataClientSlot = Arc<RwLock<Option<Arc<dyn MetadataClient>>>>;

impl ZookeeperRegistry {
    /// Connects to `cluster` (`host:port[,host:port]`) and keeps a session with `timeout`.
    pub async fn connect(cluster: &str, timeout: Duration) -> Result<ZookeeperRegistry, RegistryError> {
        ZookeeperRegistry::connect_as(cluster, timeout, None).await
    }

    /// [`connect`](Self::connect), authenticated as `credentials` (ZooKeeper's `digest`
    /// scheme, as Dubbo's `zookeeper://user:password@host` does): the nodes it creates can
    /// be read and changed only by that user, and those of others only as their ACLs allow.
    pub async fn connect_as(
        cluster: &str,
        timeout: Duration,
        credentials: Option<Credentials>,
    ) -> Result<ZookeeperRegistry, RegistryError> {
        let first = open(cluster, timeout, credentials.as_ref()).await?;
        let (sessions, session) = watch::channel(Some((1, first)));
        let stop = CancellationToken::new();
        tokio::spawn(keep_session(cluster.to_string(), timeout, credentials, sessions, stop.clone()));
        Ok(ZookeeperRegistry {
            inner: Arc::new(Inner {
                session,
                registrations: Registrations::default(),
                metadata_client: MetadataClientSlot::default(),
                _keeper: stop.drop_guard(),
            }),
        })
    }
}

async fn open(
    cluster: &str,
    timeout: Duration,
    credentials: Option<&Credentials>,
) -> Result<SessionClient, RegistryError> {
    let mut connector = zk::Client::connector();
    connector.session_timeout(timeout);
    let acls = match credentials {
        Some(credentials) => {
            let digest = format!("{}:{}", credentials.username, credentials.password());
            connector.auth("digest".to_string(), digest.into_bytes());
            zk::Acls::creator_all()
        }
        None => zk::Acls::anyone_all(),
    };
    let connecting = connector.connect(cluster);
    match tokio::time::timeout(Duration::from_secs(5), connecting).await {
        Ok(Ok(client)) => Ok(SessionClient { client, acls }),
        Ok(Err(e)) => Err(RegistryError::Unavailable(format!("zookeeper {cluster}: {e}"))),
        Err(_) => Err(RegistryError::Unavailable(format!("zookeeper {cluster}: connect timed out"))),
    }
}

/// Replaces the session whenever it ends for good (expired, closed), until stopped.
async fn keep_session(
    cluster: String,
    timeout: Duration,
    credentials: Option<Credentials>,
    sessions: watch::Sender<Session>,
    stop: CancellationToken,
) {
    let mut generation = 1;
    loop {
        let Some((_, client)) = sessions.borrow().clone() else { return };
        let mut states = client.state_watcher();
        loop {
            let state = tokio::select! {
                _ = stop.cancelled() => return,
                state = states.changed() => state,
            };
            if state.is_terminated() {
                tracing::warn!(?state, "zookeeper session ended; opening a new one");
                break;
            }
        }
        let client = loop {
            match open(&cluster, timeout, credentials.as_ref()).await {
                Ok(client) => break client,
                Err(e) => {
                    tracing::warn!(error = %e, "zookeeper unreachable; retrying");
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        () = tokio::time::sleep(RETRY) => {}
                    }
                }
            }
        };
        generation += 1;
        let _ = sessions.send(Some((generation, client)));
    }
}

/// Dubbo's root node: interface-level registrations, the interface→application mapping and
/// the metadata report all live under it.
pub(crate) const ROOT: &str = "/dubbo";

/// Where the providers of `service` live, Dubbo's way.
fn providers_path(service: &str) -> String {
    category_path(ROOT, service, "providers")
}

/// Dubbo's interface→application mapping: the applications serving `service`, comma-separated.
fn mapping_path(service: &str) -> String {
    format!("{ROOT}/mapping/{service}")
}

/// Where an application's metadata of one revision is reported (storage type `remote`).
fn metadata_path(application: &str, revision: &str) -> String {
    format!("{ROOT}/metadata/{application}/{revision}")
}

fn unavailable(e: zk::Error) -> RegistryError {
    RegistryError::Unavailable(format!("zookeeper: {e}"))
}

impl ZookeeperRegistry {
    /// Keeps an ephemeral node for `instance` under its service's `category` until withdrawn.
    async fn keep(&self, instance: &Instance, category: &str) -> Result<(), RegistryError> {
        let path = node_path(ROOT, instance, category);
        let stop = CancellationToken::new();
        let (written, first) = watch::channel(false);
        tokio::spawn(keep_node(self.inner.session.clone(), Node::empty(path), stop.clone(), written));
        self.inner.registrations.insert(node_key(instance), stop);
        first_write(first, "zookeeper").await
    }
}

impl Registry for ZookeeperRegistry {
    fn register(&self, instance: Instance) -> BoxFuture<'_, Result<(), RegistryError>> {
        Box::pin(async move { self.keep(&instance, "providers").await })
    }

    /// A node `/dubbo/{service}/consumers/{consumer://host/service?…}`, as Java consumers
    /// write theirs (`category=consumers`, `side=consumer`).
    fn register_consumer(&self, consumer: Instance) -> BoxFuture<'_, Result<(), RegistryError>> {
        let consumer = as_consumer(&consumer);
        Box::pin(async move { self.keep(&consumer, "consumers").await })
    }

    fn deregister_consumer(&self, consumer: &Instance) -> BoxFuture<'_, Result<(), RegistryError>> {
        let consumer = as_consumer(consumer);
        // Stopping the keeper deletes the node.
        self.inner.registrations.remove(&node_key(&consumer));
        Box::pin(std::future::ready(Ok(())))
    }

    fn use_metadata_client(&self, client: Arc<dyn MetadataClient>) {
        *self.inner.metadata_client.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(client);
    }

    /// Dubbo 3's application-level registration (see [`ZookeeperRegistry`]).
    fn register_application(&self, instance: ApplicationInstance) -> BoxFuture<'_, Result<(), RegistryError>> {
        Box::pin(async move { self.keep_application(&instance).await })
    }

    fn deregister_application(&self, instance: &ApplicationInstance) -> BoxFuture<'_, Result<(), RegistryError>> {
        self.withdraw_application(instance);
        Box::pin(std::future::ready(Ok(())))
    }

    fn deregister(&self, instance: &Instance) -> BoxFuture<'_, Result<(), RegistryError>> {
        let key = node_key(instance);
        let instance = instance.clone();
        Box::pin(async move {
            // Stopping the keeper deletes the node.
            self.inner.registrations.remove(&key);
            let dir = providers_path(&instance.service);
            let session = self.inner.session.borrow().clone();
            let Some((_, client)) = session else { return Ok(()) };
            let children = match client.get_children(&dir).await {
                Ok((children, _)) => children,
                Err(zk::Error::NoNode) => Vec::new(),
                Err(e) => return Err(unavailable(e)),
            };
            for child in children {
                if parse_node(&instance.service, &child).is_some_and(|i| i.same_registration(&instance)) {
                    match client.delete(&format!("{dir}/{child}"), None).await {
                        Ok(()) | Err(zk::Error::NoNode) => {}
                        Err(e) => return Err(unavailable(e)),
                    }
                }
            }
            Ok(())
        })
    }

    fn subscribe(&self, service: &str) -> BoxFuture<'_, Result<InstanceStream, RegistryError>> {
        let service = service.to_string();
        let session = self.inner.session.clone();
        let metadata_client = self.inner.metadata_client.clone();
        Box::pin(async move {
            let (sender, receiver) = mpsc::channel(16);
            tokio::spawn(follow::follow(session, service, metadata_client, sender));
            Ok(Box::pin(tokio_stream::wrappers::ReceiverStream::new(receiver)) as InstanceStream)
        })
    }
}

/// Identifies a registration regardless of weight, metadata or timestamp.
fn node_key(instance: &Instance) -> String {
    format!("{}|{}|{}|{}|{}", instance.service, instance.protocol, instance.address, instance.version, instance.group)
}
