use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rpc_registry::{Instance, Registry};

use crate::provider::Router;

/// What a provider announces about itself, and where.
#[derive(Clone)]
pub(crate) struct Registration {
    pub(crate) registry: Option<Arc<dyn Registry>>,
    pub(crate) advertise: Option<String>,
    pub(crate) weight: u32,
    pub(crate) metadata: BTreeMap<String, String>,
}

impl Default for Registration {
    fn default() -> Self {
        Registration { registry: None, advertise: None, weight: 100, metadata: BTreeMap::new() }
    }
}

/// The instances a serving provider registered; deregisters them on request.
pub(crate) struct Registered {
    registry: Option<Arc<dyn Registry>>,
    instances: Vec<Instance>,
}

impl Registration {
    /// Registers every hosted service at `local` (or the advertised address). A registry that
    /// cannot take it now is logged, not fatal: the provider serves anyway, and remote backends
    /// keep retrying in the background.
    pub(crate) async fn register(&self, router: &Router, local: SocketAddr) -> Registered {
        let Some(registry) = self.registry.clone() else {
            return Registered { registry: None, instances: Vec::new() };
        };
        let address = self.advertise.clone().unwrap_or_else(|| advertised(local));
        let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis().to_string();
        let mut instances = Vec::new();
        for (descriptor, group) in router.registrations() {
            let mut instance = Instance::new(descriptor.name, address.clone())
                .version(descriptor.version)
                .group(group)
                .weight(self.weight);
            instance.metadata = self.metadata.clone();
            instance.metadata.insert("timestamp".into(), timestamp.clone());
            match registry.register(instance.clone()).await {
                Ok(()) => tracing::info!(service = %instance.service, %address, "registered"),
                Err(e) => tracing::warn!(service = %instance.service, %address, error = %e, "registration failed"),
            }
            instances.push(instance);
        }
        Registered { registry: Some(registry), instances }
    }
}

impl Registered {
    pub(crate) async fn deregister(self) {
        let Some(registry) = self.registry else { return };
        for instance in &self.instances {
            match registry.deregister(instance).await {
                Ok(()) => tracing::info!(service = %instance.service, address = %instance.address, "deregistered"),
                Err(e) => tracing::warn!(service = %instance.service, error = %e, "deregistration failed"),
            }
        }
    }
}

/// The address to register for a listener: its own, with an unspecified IP made loopback.
fn advertised(local: SocketAddr) -> String {
    let mut address = local;
    if address.ip().is_unspecified() {
        address.set_ip(if address.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    address.to_string()
}
