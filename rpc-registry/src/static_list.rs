use crate::{BoxFuture, Instance, InstanceSet, InstanceStream, Registry, RegistryError};

/// A fixed list of providers posing as a registry (`static://host:port,host:port`): every
/// service is offered the same addresses; registering is accepted and changes nothing.
///
/// ```
/// # mod rpc { pub mod registry { pub use rpc_registry::*; } }
/// let registry = rpc::registry::StaticRegistry::new(["127.0.0.1:20880", "127.0.0.1:20881"]);
/// # drop(registry);
/// ```
#[derive(Debug, Clone)]
pub struct StaticRegistry {
    addresses: Vec<String>,
}

impl StaticRegistry {
    /// A registry whose every service has these providers (`host:port`).
    pub fn new<I, A>(addresses: I) -> StaticRegistry
    where
        I: IntoIterator<Item = A>,
        A: Into<String>,
    {
        StaticRegistry { addresses: addresses.into_iter().map(Into::into).collect() }
    }
}

impl Registry for StaticRegistry {
    fn register(&self, _: Instance) -> BoxFuture<'_, Result<(), RegistryError>> {
        Box::pin(async { Ok(()) })
    }

    fn deregister(&self, _: &Instance) -> BoxFuture<'_, Result<(), RegistryError>> {
        Box::pin(async { Ok(()) })
    }

    fn subscribe(&self, service: &str) -> BoxFuture<'_, Result<InstanceStream, RegistryError>> {
        let instances: Vec<Instance> = self.addresses.iter().map(|a| Instance::new(service, a.as_str())).collect();
        let set = InstanceSet::diff(&[], instances);
        Box::pin(async move {
            let stream = futures_util::stream::StreamExt::chain(
                futures_util::stream::once(async move { set }),
                futures_util::stream::pending(),
            );
            Ok(Box::pin(stream) as InstanceStream)
        })
    }
}
