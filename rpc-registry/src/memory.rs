use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures_core::Stream;
use tokio::sync::watch;
use tokio_stream::wrappers::WatchStream;

use crate::{BoxFuture, Instance, InstanceSet, InstanceStream, Registry, RegistryError};

/// An in-process registry: providers and consumers in one process share it by cloning.
///
/// ```
/// # mod rpc { pub mod registry { pub use rpc_registry::*; } }
/// # tokio_test_block_on(async {
/// use futures_util::StreamExt;
/// use rpc::registry::{Instance, MemoryRegistry, Registry};
///
/// let registry = MemoryRegistry::new();
/// let mut updates = registry.subscribe("demo.Greeter").await.unwrap();
/// assert!(updates.next().await.unwrap().instances.is_empty());
/// registry.register(Instance::new("demo.Greeter", "127.0.0.1:1")).await.unwrap();
/// let set = updates.next().await.unwrap();
/// assert_eq!(set.added.len(), 1);
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Clone, Default)]
pub struct MemoryRegistry {
    services: Arc<Mutex<HashMap<String, watch::Sender<Vec<Instance>>>>>,
}

impl MemoryRegistry {
    /// An empty registry of its own (not the process-wide one `memory://` names).
    pub fn new() -> MemoryRegistry {
        MemoryRegistry::default()
    }

    fn with_service<R>(&self, service: &str, f: impl FnOnce(&watch::Sender<Vec<Instance>>) -> R) -> R {
        // Registry updates are rare and short; a poisoned lock still holds consistent data.
        let mut services = self.services.lock().unwrap_or_else(PoisonError::into_inner);
        let sender = services.entry(service.to_string()).or_insert_with(|| watch::channel(Vec::new()).0);
        f(sender)
    }
}

impl Registry for MemoryRegistry {
    fn register(&self, instance: Instance) -> BoxFuture<'_, Result<(), RegistryError>> {
        self.with_service(&instance.service.clone(), |sender| {
            sender.send_modify(|set| {
                set.retain(|i| !i.same_registration(&instance));
                set.push(instance);
            })
        });
        Box::pin(async { Ok(()) })
    }

    fn deregister(&self, instance: &Instance) -> BoxFuture<'_, Result<(), RegistryError>> {
        self.with_service(&instance.service, |sender| {
            sender.send_if_modified(|set| {
                let before = set.len();
                set.retain(|i| !i.same_registration(instance));
                set.len() != before
            })
        });
        Box::pin(async { Ok(()) })
    }

    fn subscribe(&self, service: &str) -> BoxFuture<'_, Result<InstanceStream, RegistryError>> {
        let updates = self.with_service(service, |sender| WatchStream::new(sender.subscribe()));
        Box::pin(async move { Ok(Box::pin(with_diffs(updates)) as InstanceStream) })
    }
}

/// Turns a stream of full sets into [`InstanceSet`]s carrying what changed.
fn with_diffs(sets: impl Stream<Item = Vec<Instance>> + Send) -> impl Stream<Item = InstanceSet> + Send {
    use tokio_stream::StreamExt;
    let mut previous: Vec<Instance> = Vec::new();
    sets.map(move |current| {
        let set = InstanceSet::diff(&previous, current);
        previous = set.instances.clone();
        set
    })
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    #[tokio::test]
    async fn subscribers_follow_registrations_with_diffs() {
        let registry = MemoryRegistry::new();
        let mut updates = registry.subscribe("svc").await.unwrap();
        assert_eq!(updates.next().await.unwrap(), InstanceSet::default());

        let a = Instance::new("svc", "127.0.0.1:1");
        let b = Instance::new("svc", "127.0.0.1:2").weight(50);
        registry.register(a.clone()).await.unwrap();
        assert_eq!(updates.next().await.unwrap().added, vec![a.clone()]);
        registry.register(b.clone()).await.unwrap();
        let set = updates.next().await.unwrap();
        assert_eq!(set.instances, vec![a.clone(), b.clone()]);
        assert_eq!(set.added, vec![b.clone()]);

        registry.deregister(&a).await.unwrap();
        let set = updates.next().await.unwrap();
        assert_eq!(set.instances, vec![b]);
        assert_eq!(set.removed, vec![a]);
    }

    #[tokio::test]
    async fn re_registering_replaces_the_record() {
        let registry = MemoryRegistry::new();
        registry.register(Instance::new("svc", "h:1").weight(10)).await.unwrap();
        registry.register(Instance::new("svc", "h:1").weight(20)).await.unwrap();
        let mut updates = registry.subscribe("svc").await.unwrap();
        let set = updates.next().await.unwrap();
        assert_eq!(set.instances.len(), 1);
        assert_eq!(set.instances[0].weight, 20);
    }
}
