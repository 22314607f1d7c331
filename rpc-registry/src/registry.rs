use std::future::Future;
use std::pin::Pin;

use futures_core::Stream;

use std::sync::Arc;

use crate::{ApplicationInstance, Instance, InstanceSet, MetadataClient, RegistryError};

/// A boxed `Send` future, as registry methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Full instance sets of one service, one per change; the first is the set at subscription.
pub type InstanceStream = Pin<Box<dyn Stream<Item = InstanceSet> + Send>>;

/// Where providers announce themselves and consumers find them. Object-safe, so a registry
/// chosen at run time (by URL) can sit behind `Arc<dyn Registry>`.
pub trait Registry: Send + Sync + 'static {
    /// Announces `instance`; registering the same registration again updates it.
    fn register(&self, instance: Instance) -> BoxFuture<'_, Result<(), RegistryError>>;
    /// Withdraws `instance`; withdrawing an unknown one is not an error.
    fn deregister(&self, instance: &Instance) -> BoxFuture<'_, Result<(), RegistryError>>;
    /// Follows the instances of `service`.
    fn subscribe(&self, service: &str) -> BoxFuture<'_, Result<InstanceStream, RegistryError>>;

    /// Announces a consumer of a service (`consumer.protocol` is `consumer`), for registries
    /// that keep consumers where Dubbo's tooling looks for them (ZooKeeper's
    /// `/dubbo/{service}/consumers/`); the others keep nothing.
    fn register_consumer(&self, consumer: Instance) -> BoxFuture<'_, Result<(), RegistryError>> {
        let _ = consumer;
        Box::pin(std::future::ready(Ok(())))
    }

    /// Withdraws a consumer announced with [`register_consumer`](Self::register_consumer).
    fn deregister_consumer(&self, consumer: &Instance) -> BoxFuture<'_, Result<(), RegistryError>> {
        let _ = consumer;
        Box::pin(std::future::ready(Ok(())))
    }

    /// Announces an application instance, for registries that keep Dubbo 3's
    /// application-level discovery (`/services/{app}/{host:port}` in ZooKeeper, with the
    /// interface→application mapping and the application's metadata, and in etcd); the
    /// others keep nothing. Announcing it again (serving something else) replaces it.
    fn register_application(&self, instance: ApplicationInstance) -> BoxFuture<'_, Result<(), RegistryError>> {
        let _ = instance;
        Box::pin(std::future::ready(Ok(())))
    }

    /// Withdraws an application instance announced with
    /// [`register_application`](Self::register_application).
    fn deregister_application(&self, instance: &ApplicationInstance) -> BoxFuture<'_, Result<(), RegistryError>> {
        let _ = instance;
        Box::pin(std::future::ready(Ok(())))
    }

    /// How subscriptions learn the services of application instances whose metadata is
    /// stored `local` (see [`MetadataClient`]); registries without application-level
    /// discovery ignore it. A consumer's channel hands one over before it subscribes.
    fn use_metadata_client(&self, client: Arc<dyn MetadataClient>) {
        let _ = client;
    }
}
