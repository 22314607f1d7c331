// The waiting helpers serve only the remote backends (etcd, ZooKeeper features).
#![cfg_attr(not(any(feature = "etcd", feature = "zookeeper")), allow(dead_code, unused_imports))]

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::RegistryError;

/// How long `register` waits for a remote backend's first write before reporting the
/// registry unavailable (the registration keeps being retried in the background).
const FIRST_WRITE: Duration = Duration::from_secs(5);

/// This process's registrations in one backend: the task keeping each alive (heartbeat,
/// lease, ephemeral node), stopped when the registration is withdrawn or the registry dropped.
#[derive(Default)]
pub(crate) struct Registrations {
    keepers: Mutex<HashMap<String, DropGuard>>,
}

impl Registrations {
    /// Records the keeper of `key`, replacing (and so stopping) an earlier one.
    pub(crate) fn insert(&self, key: String, keeper: CancellationToken) {
        let previous = self.keepers.lock().unwrap_or_else(PoisonError::into_inner).insert(key, keeper.drop_guard());
        drop(previous);
    }

    /// Stops the keeper of `key`, if there is one.
    pub(crate) fn remove(&self, key: &str) {
        let keeper = self.keepers.lock().unwrap_or_else(PoisonError::into_inner).remove(key);
        drop(keeper);
    }
}

/// Waits for a keeper's first successful write (`written` turning true).
pub(crate) async fn first_write(mut written: watch::Receiver<bool>, backend: &str) -> Result<(), RegistryError> {
    if matches!(tokio::time::timeout(FIRST_WRITE, written.wait_for(|w| *w)).await, Ok(Ok(_))) {
        Ok(())
    } else {
        Err(RegistryError::Unavailable(format!(
            "{backend} did not take the registration yet; retrying in the background"
        )))
    }
}
