use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use zookeeper_client as zk;

use super::node::{keep_node, Node, Prepare};
use super::{mapping_path, metadata_path, SessionClient, ZookeeperRegistry};
use crate::dubbo_instance::{record_path, InstanceRecord};
use crate::dubbo_metadata::MetadataInfo;
use crate::registrations::first_write;
use crate::{ApplicationInstance, MetadataStorage, RegistryError};

/// Attempts at adding an application to a mapping another writer changes under us.
const MAPPING_ATTEMPTS: usize = 10;

impl ZookeeperRegistry {
    /// Dubbo 3's application-level registration: the application's metadata at
    /// `/dubbo/metadata/{app}/{revision}` (unless it is stored `local`: consumers then ask
    /// the provider's `MetadataService`) and the application added to
    /// `/dubbo/mapping/{service}` of each service, both persistent as Dubbo keeps them; then
    /// the ephemeral instance node `/services/{app}/{host:port}` holding Curator's instance
    /// JSON. The persistent records are checked again in every session, before the node.
    pub(super) async fn keep_application(&self, instance: &ApplicationInstance) -> Result<(), RegistryError> {
        let metadata = MetadataInfo::of(instance);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64;
        let record = InstanceRecord::of(instance, &metadata.revision, now);
        let mut services: Vec<String> = instance.services.iter().map(|s| s.service.clone()).collect();
        services.sort();
        services.dedup();
        let application = instance.application.clone();
        let metadata_node = metadata_path(&application, &metadata.revision);
        // Stored `local`, only the provider's MetadataService has it.
        let metadata_json =
            (instance.metadata_storage == MetadataStorage::Remote).then(|| Arc::new(metadata.to_json()));
        let prepare: Prepare = Arc::new(move |client: SessionClient| {
            let (application, metadata_node, metadata_json, services) =
                (application.clone(), metadata_node.clone(), metadata_json.clone(), services.clone());
            Box::pin(async move {
                if let Some(metadata_json) = &metadata_json {
                    write_once(&client, &metadata_node, metadata_json).await?;
                }
                for service in &services {
                    add_to_mapping(&client, &mapping_path(service), &application).await?;
                }
                Ok(())
            })
        });
        let node = Node { path: record_path(instance), data: record.to_json(), prepare: Some(prepare) };
        let stop = CancellationToken::new();
        let (written, first) = watch::channel(false);
        tokio::spawn(keep_node(self.inner.session.clone(), node, stop.clone(), written));
        self.inner.registrations.insert(application_key(instance), stop);
        first_write(first, "zookeeper").await
    }

    pub(super) fn withdraw_application(&self, instance: &ApplicationInstance) {
        // Stopping the keeper deletes the instance node; the mapping and the metadata stay,
        // as Dubbo leaves them (other instances of the application share them).
        self.inner.registrations.remove(&application_key(instance));
    }
}

fn application_key(instance: &ApplicationInstance) -> String {
    format!("application|{}|{}", instance.application, instance.address)
}

/// Creates the persistent node `path` with `data` unless it exists (a revision's metadata
/// never changes).
async fn write_once(client: &SessionClient, path: &str, data: &[u8]) -> Result<(), zk::Error> {
    if let Some((parent, _)) = path.rsplit_once('/') {
        match client.mkdir(parent, &client.persistent()).await {
            Ok(()) | Err(zk::Error::NodeExists) => {}
            Err(e) => return Err(e),
        }
    }
    match client.create(path, data, &client.persistent()).await {
        Ok(_) | Err(zk::Error::NodeExists) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Adds `application` to the comma-separated list at `path`, as Dubbo does: compare-and-set
/// on the node's version, retried when another writer got there first.
async fn add_to_mapping(client: &SessionClient, path: &str, application: &str) -> Result<(), zk::Error> {
    for _ in 0..MAPPING_ATTEMPTS {
        match client.get_data(path).await {
            Ok((data, stat)) => {
                let current = String::from_utf8_lossy(&data).into_owned();
                if current.split(',').any(|a| a.trim() == application) {
                    return Ok(());
                }
                let updated = if current.trim().is_empty() {
                    application.to_string()
                } else {
                    format!("{current},{application}")
                };
                match client.set_data(path, updated.as_bytes(), Some(stat.version)).await {
                    Ok(_) => return Ok(()),
                    Err(zk::Error::BadVersion) | Err(zk::Error::NoNode) => continue,
                    Err(e) => return Err(e),
                }
            }
            Err(zk::Error::NoNode) => {
                if let Some((parent, _)) = path.rsplit_once('/') {
                    match client.mkdir(parent, &client.persistent()).await {
                        Ok(()) | Err(zk::Error::NodeExists) => {}
                        Err(e) => return Err(e),
                    }
                }
                match client.create(path, application.as_bytes(), &client.persistent()).await {
                    Ok(_) => return Ok(()),
                    Err(zk::Error::NodeExists) => continue,
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(zk::Error::BadVersion)
}
