//! A cluster channel's own registration as a consumer, for the registries that keep consumers
//! (Dubbo's `/dubbo/{service}/consumers/` in ZooKeeper, where Dubbo's admin shows who calls
//! what). Made when the channel is built, withdrawn when the last clone of it is dropped.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rpc_registry::{Instance, Registry};

use crate::{MethodKind, ServiceDescriptor};

/// Withdraws the consumer's registration on drop.
pub(crate) struct ConsumerRegistration {
    registry: Arc<dyn Registry>,
    consumer: Instance,
}

impl ConsumerRegistration {
    /// Registers a consumer of `service` (in the background: the channel does not wait).
    pub(crate) fn start(
        registry: Arc<dyn Registry>,
        service: &str,
        descriptor: Option<&'static ServiceDescriptor>,
        version: Option<&str>,
        group: Option<&str>,
        application: String,
    ) -> ConsumerRegistration {
        let mut consumer = Instance::new(service, crate::identity::local_ip().to_string())
            .version(version.unwrap_or_default())
            .group(group.unwrap_or_default());
        consumer.protocol = "consumer".into();
        let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
        let mut methods: Vec<&str> = descriptor
            .map(|d| d.methods.iter().filter(|m| m.kind == MethodKind::Unary).map(|m| m.name).collect())
            .unwrap_or_default();
        methods.sort_unstable();
        for (key, value) in [
            ("application", application),
            ("interface", service.to_string()),
            ("methods", methods.join(",")),
            ("check", "false".into()),
            ("dubbo", rpc_codec::dubbo::DUBBO_VERSION.into()),
            ("release", concat!("rpc-rust-", env!("CARGO_PKG_VERSION")).into()),
            ("pid", std::process::id().to_string()),
            ("timestamp", timestamp.to_string()),
        ] {
            consumer.metadata.insert(key.into(), value);
        }
        let (task_registry, task_consumer) = (registry.clone(), consumer.clone());
        tokio::spawn(async move {
            if let Err(e) = task_registry.register_consumer(task_consumer).await {
                tracing::warn!(error = %e, "consumer registration failed");
            }
        });
        ConsumerRegistration { registry, consumer }
    }
}

impl Drop for ConsumerRegistration {
    fn drop(&mut self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let (registry, consumer) = (self.registry.clone(), self.consumer.clone());
        runtime.spawn(async move {
            if let Err(e) = registry.deregister_consumer(&consumer).await {
                tracing::debug!(error = %e, "consumer deregistration failed");
            }
        });
    }
}
