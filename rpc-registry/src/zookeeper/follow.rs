use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures_util::future::select_all;
use tokio::sync::{mpsc, watch};
use zookeeper_client as zk;

use super::{mapping_path, metadata_path, providers_path, MetadataClientSlot, Session, SessionClient, RETRY};
use crate::dubbo_instance::{InstanceRecord, SERVICES_ROOT};
use crate::dubbo_metadata::MetadataInfo;
use crate::dubbo_url::parse_node;
use crate::{Instance, InstanceSet};

/// Sends the providers of `service` at once and after every change, re-reading in every new
/// session, until the receiver is dropped. Both of Dubbo's layouts are read, as a Dubbo 3
/// consumer's default (`APPLICATION_FIRST`) reads them: the interface-level providers, and
/// the instances of every application the interface→application mapping names whose
/// metadata (in the metadata report, or from the instance's `MetadataService` when stored
/// `local`) serves `service`. A registration found in both counts once.
pub(super) async fn follow(
    mut sessions: watch::Receiver<Session>,
    service: String,
    metadata_client: MetadataClientSlot,
    sender: mpsc::Sender<InstanceSet>,
) {
    let mut reader = Reader {
        service,
        previous: None,
        metadata: HashMap::new(),
        unreadable: BTreeSet::new(),
        metadata_client,
        unanswered: HashMap::new(),
    };
    loop {
        let session = sessions.borrow_and_update().clone();
        let outcome = match session {
            Some((_, client)) => reader.watch(&client, &sender, &mut sessions).await,
            None => Err(zk::Error::ConnectionLoss),
        };
        if sender.is_closed() {
            return;
        }
        if let Err(e) = outcome {
            tracing::debug!(service = %reader.service, error = %e, "zookeeper watch interrupted; keeping the last set");
            tokio::select! {
                () = sender.closed() => return,
                () = tokio::time::sleep(RETRY) => {}
            }
        }
    }
}

type Watch = Pin<Box<dyn Future<Output = zk::WatchedEvent> + Send>>;

/// How long a subscription waits for an instance's `MetadataService`.
const METADATA_SERVICE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a `MetadataService` that did not answer is left alone.
const METADATA_SERVICE_RETRY: Duration = Duration::from_secs(30);

/// What one subscription knows across reads.
struct Reader {
    service: String,
    previous: Option<Vec<Instance>>,
    /// Application metadata by (application, revision): a revision names one content.
    metadata: HashMap<(String, String), MetadataInfo>,
    /// Instances already reported as unreadable here, so each is logged once.
    unreadable: BTreeSet<String>,
    /// Asks instances whose metadata is `local` for it.
    metadata_client: MetadataClientSlot,
    /// When a `MetadataService` last failed to answer, by (application, revision): it is not
    /// asked again on every change for a while, which would hold up every other update.
    unanswered: HashMap<(String, String), Instant>,
}

impl Reader {
    /// Reads and watches everything `service`'s providers depend on in one session, again
    /// after any of it changes; returns when the session changes or fails.
    async fn watch(
        &mut self,
        client: &SessionClient,
        sender: &mpsc::Sender<InstanceSet>,
        sessions: &mut watch::Receiver<Session>,
    ) -> Result<(), zk::Error> {
        let providers = providers_path(&self.service);
        let persistent = client.persistent();
        match client.mkdir(&providers, &persistent).await {
            Ok(()) | Err(zk::Error::NodeExists) => {}
            Err(e) => return Err(e),
        }
        loop {
            let mut watches: Vec<Watch> = Vec::new();
            let (children, watcher) = client.list_and_watch_children(&providers).await?;
            watches.push(Box::pin(watcher.changed()));
            let mut instances: Vec<Instance> = children.iter().filter_map(|c| parse_node(&self.service, c)).collect();
            instances.sort();
            let mut again = false;
            for instance in self.application_level(client, &mut watches, &mut again).await? {
                if !instances.iter().any(|known| known.same_registration(&instance)) {
                    instances.push(instance);
                }
            }
            instances.sort();
            instances.dedup_by(|a, b| a.same_registration(b));
            if self.previous.as_ref() != Some(&instances) {
                let set = InstanceSet::diff(self.previous.as_deref().unwrap_or(&[]), instances.clone());
                self.previous = Some(instances);
                if sender.send(set).await.is_err() {
                    return Ok(());
                }
            }
            if again {
                // Something appeared between a read and its watch: read once more.
                tokio::time::sleep(RETRY).await;
                continue;
            }
            tokio::select! {
                () = sender.closed() => return Ok(()),
                (event, _, _) = select_all(watches) => {
                    if event.event_type == zk::EventType::Session {
                        return Err(zk::Error::SessionExpired);
                    }
                }
                _ = sessions.changed() => return Ok(()),
            }
        }
    }

    /// The providers of the service found through Dubbo 3's application-level layout:
    /// `/dubbo/mapping/{service}` names applications, `/services/{app}/*` their instances,
    /// each naming the revision of its metadata in `/dubbo/metadata/{app}/{revision}`.
    /// Every node read is watched (a missing one for its creation).
    async fn application_level(
        &mut self,
        client: &SessionClient,
        watches: &mut Vec<Watch>,
        again: &mut bool,
    ) -> Result<Vec<Instance>, zk::Error> {
        let mut found = Vec::new();
        // Metadata of revisions no instance names any more is dropped after this read.
        let mut named = BTreeSet::new();
        let Some(mapping) = read_watched(client, &mapping_path(&self.service), watches, again).await? else {
            self.metadata.clear();
            return Ok(found);
        };
        let mapping = String::from_utf8_lossy(&mapping).into_owned();
        let applications: BTreeSet<&str> = mapping.split(',').map(str::trim).filter(|a| !a.is_empty()).collect();
        for application in applications {
            let dir = format!("{SERVICES_ROOT}/{application}");
            let children = match client.list_and_watch_children(&dir).await {
                Ok((children, watcher)) => {
                    watches.push(Box::pin(watcher.changed()));
                    children
                }
                Err(zk::Error::NoNode) => {
                    watch_creation(client, &dir, watches, again).await?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            for child in children {
                let path = format!("{dir}/{child}");
                let Some(data) = read_watched(client, &path, watches, again).await? else { continue };
                let Some(record) = InstanceRecord::parse(&data) else {
                    self.unreadable_once(&path, "not a Curator service instance");
                    continue;
                };
                let Some(revision) = record.revision() else { continue };
                let key = (application.to_string(), revision.to_string());
                named.insert(key.clone());
                if !self.metadata.contains_key(&key) {
                    let metadata = if record.metadata_is_remote() {
                        let json = match client.get_data(&metadata_path(application, revision)).await {
                            Ok((json, _)) => json,
                            // Not written yet: the instance's next change (or a retry) reads it.
                            Err(zk::Error::NoNode) => {
                                *again = true;
                                continue;
                            }
                            Err(e) => return Err(e),
                        };
                        MetadataInfo::parse(&json).ok_or("its metadata is not Dubbo's MetadataInfo JSON".to_string())
                    } else if self.unanswered.get(&key).is_some_and(|at| at.elapsed() < METADATA_SERVICE_RETRY) {
                        continue;
                    } else {
                        let answer = self.ask_metadata_service(&record, revision).await;
                        if answer.is_err() {
                            self.unanswered.insert(key.clone(), Instant::now());
                        }
                        answer
                    };
                    match metadata {
                        Ok(metadata) => self.metadata.insert(key.clone(), metadata),
                        Err(why) => {
                            self.unreadable_once(&path, &why);
                            continue;
                        }
                    };
                }
                found.extend(record.instances(&self.service, &self.metadata[&key]));
            }
        }
        self.metadata.retain(|key, _| named.contains(key));
        self.unanswered.retain(|key, _| named.contains(key));
        Ok(found)
    }

    /// The metadata of an instance that keeps it `local`, from its `MetadataService`; why
    /// not, when it cannot be had (the instance is then found through its interface-level
    /// registrations only).
    async fn ask_metadata_service(&self, record: &InstanceRecord, revision: &str) -> Result<MetadataInfo, String> {
        let client = self.metadata_client.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        let Some(client) = client else {
            return Err("its metadata is local and this subscription has no MetadataService client".into());
        };
        let Some(request) = record.metadata_service(revision) else {
            return Err("its metadata is local and its record names no MetadataService port".into());
        };
        let address = request.address.clone();
        match tokio::time::timeout(METADATA_SERVICE_TIMEOUT, client.metadata(request)).await {
            Ok(Ok(Some(metadata))) => Ok(metadata),
            Ok(Ok(None)) => Err(format!("its MetadataService at {address} does not know revision {revision}")),
            Ok(Err(e)) => Err(format!("its MetadataService at {address} failed: {e}")),
            Err(_) => Err(format!("its MetadataService at {address} did not answer in {METADATA_SERVICE_TIMEOUT:?}")),
        }
    }

    fn unreadable_once(&mut self, path: &str, why: &str) {
        if self.unreadable.insert(path.to_string()) {
            tracing::info!(%path, why, "skipping an application instance");
        }
    }
}

/// The data at `path`, watched; `None` (with a watch for its creation) when it is missing.
async fn read_watched(
    client: &SessionClient,
    path: &str,
    watches: &mut Vec<Watch>,
    again: &mut bool,
) -> Result<Option<Vec<u8>>, zk::Error> {
    match client.get_and_watch_data(path).await {
        Ok((data, _, watcher)) => {
            watches.push(Box::pin(watcher.changed()));
            Ok(Some(data))
        }
        Err(zk::Error::NoNode) => {
            watch_creation(client, path, watches, again).await?;
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Watches for `path` to appear; if it appeared since it was found missing, asks for a reread.
async fn watch_creation(
    client: &SessionClient,
    path: &str,
    watches: &mut Vec<Watch>,
    again: &mut bool,
) -> Result<(), zk::Error> {
    let (stat, watcher) = client.check_and_watch_stat(path).await?;
    if stat.is_some() {
        *again = true;
    }
    watches.push(Box::pin(watcher.changed()));
    Ok(())
}
