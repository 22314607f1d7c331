use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::{CancellationToken, DropGuard};
use zookeeper_client as zk;
// Links the tokio spawner zookeeper-client finds through `spawns`.
use spawns as _;

use crate::registrations::{first_write, Registrations};
use crate::{BoxFuture, Instance, InstanceSet, InstanceStream, Registry, RegistryError};

/// Session timeout, unless configured: a provider that dies disappears after about this long.
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(10);
/// Wait between attempts while ZooKeeper is unreachable.
const RETRY: Duration = Duration::from_millis(500);

/// What Java's `URLEncoder` leaves alone, as Dubbo encodes provider URLs into node names.
const URL_ENCODED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'*');

/// A live session: its client, and a number that changes when a session is replaced.
type Session = Option<(u64, zk::Client)>;

/// Registrations in ZooKeeper (`zookeeper://host:port`), in the layout Apache Dubbo uses, so
/// Dubbo's tooling sees our providers: an ephemeral node
/// `/dubbo/{service}/providers/{url-encoded provider URL}` per instance, the URL being
/// `{protocol}://host:port/service?…` with the parameters of the instance (for `tri://` and
/// `dubbo://` registrations, those a Java Dubbo consumer matches on).
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
    _keeper: DropGuard,
}

impl ZookeeperRegistry {
    /// Connects to `cluster` (`host:port[,host:port]`) and keeps a session with `timeout`.
    pub async fn connect(cluster: &str, timeout: Duration) -> Result<ZookeeperRegistry, RegistryError> {
        let first = open(cluster, timeout).await?;
        let (sessions, session) = watch::channel(Some((1, first)));
        let stop = CancellationToken::new();
        tokio::spawn(keep_session(cluster.to_string(), timeout, sessions, stop.clone()));
        Ok(ZookeeperRegistry {
            inner: Arc::new(Inner { session, registrations: Registrations::default(), _keeper: stop.drop_guard() }),
        })
    }
}

async fn open(cluster: &str, timeout: Duration) -> Result<zk::Client, RegistryError> {
    let mut connector = zk::Client::connector();
    connector.session_timeout(timeout);
    let connecting = connector.connect(cluster);
    match tokio::time::timeout(Duration::from_secs(5), connecting).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e)) => Err(RegistryError::Unavailable(format!("zookeeper {cluster}: {e}"))),
        Err(_) => Err(RegistryError::Unavailable(format!("zookeeper {cluster}: connect timed out"))),
    }
}

/// Replaces the session whenever it ends for good (expired, closed), until stopped.
async fn keep_session(cluster: String, timeout: Duration, sessions: watch::Sender<Session>, stop: CancellationToken) {
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
            match open(&cluster, timeout).await {
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

/// Where the providers of `service` live, Dubbo's way.
fn providers_path(service: &str) -> String {
    category_path(service, "providers")
}

/// `/dubbo/{service}/{category}`: `providers`, `consumers`, `configurators`, `routers`.
fn category_path(service: &str, category: &str) -> String {
    format!("/dubbo/{}/{category}", utf8_percent_encode(service, URL_ENCODED))
}

/// The provider URL Dubbo expects, for a node name: parameters sorted by key and empty ones
/// left out, as Java's `URL.toFullString` writes them.
fn provider_url(instance: &Instance) -> String {
    let mut query: BTreeMap<&str, &str> = instance.metadata.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let weight = instance.weight.to_string();
    query.insert("version", &instance.version);
    query.insert("group", &instance.group);
    if instance.protocol == CONSUMER {
        query.insert("side", "consumer");
        query.insert("category", "consumers");
    } else {
        query.insert("weight", &weight);
        query.insert("serialization", &instance.serialization);
        query.insert("side", "provider");
    }
    let params: Vec<String> = query
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| {
            format!("{}={}", utf8_percent_encode(key, URL_ENCODED), utf8_percent_encode(value, URL_ENCODED))
        })
        .collect();
    format!("{}://{}/{}?{}", instance.protocol, instance.address, instance.service, params.join("&"))
}

/// An instance from a provider node's name (a URL-encoded provider URL).
fn parse_node(service: &str, node: &str) -> Option<Instance> {
    let url = percent_decode_str(node).decode_utf8().ok()?;
    let (protocol, rest) = url.split_once("://")?;
    let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
    let address = location.split('/').next()?.to_string();
    let mut instance = Instance::new(service, address);
    instance.protocol = protocol.to_string();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode_str(key).decode_utf8().ok()?.to_string();
        let value = percent_decode_str(value).decode_utf8().ok()?.to_string();
        match key.as_str() {
            "version" => instance.version = value,
            "group" => instance.group = value,
            "weight" => instance.weight = value.parse().unwrap_or(100),
            "serialization" => instance.serialization = value,
            "side" => {}
            _ => {
                instance.metadata.insert(key, value);
            }
        }
    }
    // Dubbo's default serialization, when a Java provider leaves it out.
    if protocol == "dubbo" && !query.split('&').any(|p| p.starts_with("serialization=")) {
        instance.serialization = "hessian2".into();
    }
    Some(instance)
}

/// The protocol of a consumer's registration (Dubbo's `consumer://` URLs).
const CONSUMER: &str = "consumer";

fn unavailable(e: zk::Error) -> RegistryError {
    RegistryError::Unavailable(format!("zookeeper: {e}"))
}

impl ZookeeperRegistry {
    /// Keeps an ephemeral node for `instance` under its service's `category` until withdrawn.
    async fn keep(&self, instance: &Instance, category: &str) -> Result<(), RegistryError> {
        let path = format!(
            "{}/{}",
            category_path(&instance.service, category),
            utf8_percent_encode(&provider_url(instance), URL_ENCODED)
        );
        let stop = CancellationToken::new();
        let (written, first) = watch::channel(false);
        tokio::spawn(keep_node(self.inner.session.clone(), path, stop.clone(), written));
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
    fn register_consumer(&self, mut consumer: Instance) -> BoxFuture<'_, Result<(), RegistryError>> {
        consumer.protocol = CONSUMER.into();
        Box::pin(async move { self.keep(&consumer, "consumers").await })
    }

    fn deregister_consumer(&self, consumer: &Instance) -> BoxFuture<'_, Result<(), RegistryError>> {
        let mut consumer = consumer.clone();
        consumer.protocol = CONSUMER.into();
        // Stopping the keeper deletes the node.
        self.inner.registrations.remove(&node_key(&consumer));
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
        Box::pin(async move {
            let (sender, receiver) = mpsc::channel(16);
            tokio::spawn(follow(session, service, sender));
            Ok(Box::pin(tokio_stream::wrappers::ReceiverStream::new(receiver)) as InstanceStream)
        })
    }
}

/// Identifies a registration regardless of weight, metadata or timestamp.
fn node_key(instance: &Instance) -> String {
    format!("{}|{}|{}|{}|{}", instance.service, instance.protocol, instance.address, instance.version, instance.group)
}

/// Keeps the ephemeral node at `path` in every session until stopped, then deletes it. The
/// node is watched, so one deleted under a live session is written again.
async fn keep_node(
    mut sessions: watch::Receiver<Session>,
    path: String,
    stop: CancellationToken,
    written: watch::Sender<bool>,
) {
    let parent = path.rsplit_once('/').map_or("/", |(p, _)| p).to_string();
    let mut current = None;
    let mut node_watch = None;
    loop {
        let session = sessions.borrow_and_update().clone();
        if let Some((generation, client)) = session {
            if current != Some(generation) {
                match write_ephemeral(&client, &parent, &path).await {
                    Ok(watcher) => {
                        current = Some(generation);
                        node_watch = Some(Box::pin(watcher.changed()));
                        let _ = written.send(true);
                        tracing::debug!(%path, generation, "registered in zookeeper");
                    }
                    Err(e) => tracing::warn!(%path, error = %e, "zookeeper registration failed; retrying"),
                }
            }
        }
        let retry = current.is_none();
        tokio::select! {
            _ = stop.cancelled() => break,
            changed = sessions.changed() => if changed.is_err() { break },
            () = tokio::time::sleep(RETRY), if retry => {}
            event = async { node_watch.as_mut().expect("watched").await }, if node_watch.is_some() => {
                // Deleted, changed, or its session disturbed: check it again in this session.
                tracing::debug!(%path, ?event, "zookeeper node changed; writing it again");
                node_watch = None;
                current = None;
            }
        }
    }
    let session = sessions.borrow().clone();
    if let Some((_, client)) = session {
        let _ = client.delete(&path, None).await;
    }
}

/// Writes the ephemeral node at `path` in `client`'s session and watches it. A node left by
/// an earlier session of ours is replaced, not taken as ours: after an outage the server
/// restores the old session with its nodes, and deletes them when that session expires, which
/// would take the registration with it.
async fn write_ephemeral(client: &zk::Client, parent: &str, path: &str) -> Result<zk::OneshotWatcher, zk::Error> {
    let persistent = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
    let ephemeral = zk::CreateMode::Ephemeral.with_acls(zk::Acls::anyone_all());
    match client.mkdir(parent, &persistent).await {
        Ok(()) | Err(zk::Error::NodeExists) => {}
        Err(e) => return Err(e),
    }
    // A Java provider subscribes to its service's configurators (dynamic configuration),
    // which makes that directory; Dubbo consumers read it and fail when it is missing.
    if let Some(service) = parent.strip_suffix("/providers") {
        match client.mkdir(&format!("{service}/configurators"), &persistent).await {
            Ok(()) | Err(zk::Error::NodeExists) => {}
            Err(e) => return Err(e),
        }
    }
    let ours = client.session_id().0;
    // A few rounds: each ends with the node ours, or with a stale one deleted (or gone).
    for _ in 0..5 {
        match client.create(path, b"", &ephemeral).await {
            Ok(_) | Err(zk::Error::NodeExists) => {}
            Err(e) => return Err(e),
        }
        let (stat, watcher) = client.check_and_watch_stat(path).await?;
        match stat {
            Some(stat) if stat.ephemeral_owner == ours => return Ok(watcher),
            Some(stat) => match client.delete(path, Some(stat.version)).await {
                Ok(()) | Err(zk::Error::NoNode) | Err(zk::Error::BadVersion) => {
                    tracing::debug!(%path, owner = stat.ephemeral_owner, "replaced a node of an earlier session");
                }
                Err(e) => return Err(e),
            },
            None => {}
        }
    }
    Err(zk::Error::NodeExists)
}

/// Sends the providers of `service` at once and after every change, re-arming the child watch
/// after each event and re-reading in every new session, until the receiver is dropped.
async fn follow(mut sessions: watch::Receiver<Session>, service: String, sender: mpsc::Sender<InstanceSet>) {
    let dir = providers_path(&service);
    let mut previous: Option<Vec<Instance>> = None;
    loop {
        let session = sessions.borrow_and_update().clone();
        let outcome = match session {
            Some((_, client)) => watch_children(&client, &dir, &service, &sender, &mut previous, &mut sessions).await,
            None => Err(zk::Error::ConnectionLoss),
        };
        if sender.is_closed() {
            return;
        }
        if let Err(e) = outcome {
            tracing::debug!(%dir, error = %e, "zookeeper watch interrupted; keeping the last set");
            tokio::select! {
                () = sender.closed() => return,
                () = tokio::time::sleep(RETRY) => {}
            }
        }
    }
}

/// Reads and watches `dir` in one session; returns when the session changes or fails.
async fn watch_children(
    client: &zk::Client,
    dir: &str,
    service: &str,
    sender: &mpsc::Sender<InstanceSet>,
    previous: &mut Option<Vec<Instance>>,
    sessions: &mut watch::Receiver<Session>,
) -> Result<(), zk::Error> {
    let persistent = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
    match client.mkdir(dir, &persistent).await {
        Ok(()) | Err(zk::Error::NodeExists) => {}
        Err(e) => return Err(e),
    }
    loop {
        let (children, watcher) = client.list_and_watch_children(dir).await?;
        let mut instances: Vec<Instance> = children.iter().filter_map(|c| parse_node(service, c)).collect();
        instances.sort();
        instances.dedup_by(|a, b| a.same_registration(b));
        if previous.as_ref() != Some(&instances) {
            let set = InstanceSet::diff(previous.as_deref().unwrap_or(&[]), instances.clone());
            *previous = Some(instances);
            if sender.send(set).await.is_err() {
                return Ok(());
            }
        }
        tokio::select! {
            () = sender.closed() => return Ok(()),
            event = watcher.changed() => {
                if event.event_type == zk::EventType::Session {
                    return Err(zk::Error::SessionExpired);
                }
            }
            _ = sessions.changed() => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_node, provider_url};
    use crate::Instance;

    #[test]
    fn provider_urls_round_trip_through_node_names() {
        let mut instance = Instance::new("demo.Greeter", "127.0.0.1:20880").version("1.0.0").group("blue").weight(250);
        instance.metadata.insert("timestamp".into(), "1700000000000".into());
        instance.metadata.insert("region".into(), "eu west".into());
        let url = provider_url(&instance);
        assert!(url.starts_with("rpc://127.0.0.1:20880/demo.Greeter?"), "{url}");
        let node = percent_encoding::utf8_percent_encode(&url, super::URL_ENCODED).to_string();
        assert!(!node.contains('/'), "a node name is one path component");
        assert_eq!(parse_node("demo.Greeter", &node), Some(instance));
    }
}
