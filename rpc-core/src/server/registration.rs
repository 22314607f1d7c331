use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rpc_codec::SerializationId;
use rpc_registry::{ApplicationInstance, Instance, MetadataStorage, Registry};

use super::RegisterMode;
use crate::provider::Router;
use crate::{MethodKind, Protocol, ServiceDescriptor};

/// What a provider announces about itself, and where.
#[derive(Clone)]
pub(crate) struct Registration {
    pub(crate) registry: Option<Arc<dyn Registry>>,
    pub(crate) advertise: Option<String>,
    pub(crate) weight: u32,
    pub(crate) metadata: BTreeMap<String, String>,
    /// Dubbo's `application`; the executable's name when not set.
    pub(crate) application: Option<String>,
    pub(crate) mode: RegisterMode,
    pub(crate) metadata_storage: MetadataStorage,
}

impl Default for Registration {
    fn default() -> Self {
        Registration {
            registry: None,
            advertise: None,
            weight: 100,
            metadata: BTreeMap::new(),
            application: None,
            mode: RegisterMode::default(),
            metadata_storage: MetadataStorage::default(),
        }
    }
}

/// The instances a serving provider registered; deregisters them on request.
pub(crate) struct Registered {
    registry: Option<Arc<dyn Registry>>,
    instances: Vec<Instance>,
    application: Option<ApplicationInstance>,
}

impl Registration {
    /// Registers every hosted service at `local` (or the advertised address). A registry that
    /// cannot take it now is logged, not fatal: the provider serves anyway, and remote backends
    /// keep retrying in the background.
    pub(crate) async fn register(&self, router: &Router, local: SocketAddr, dubbo: Option<SocketAddr>) -> Registered {
        let Some(registry) = self.registry.clone() else {
            return Registered { registry: None, instances: Vec::new(), application: None };
        };
        let address = self.advertise.clone().unwrap_or_else(|| advertised(local));
        // A separate dubbo2 port is registered at the advertised host.
        let dubbo_address = dubbo.map(|dubbo| with_port(&address, dubbo.port()));
        let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis().to_string();
        let application = self.application.clone().unwrap_or_else(crate::identity::default_application);
        let mut instances = Vec::new();
        let mut application_instance =
            ApplicationInstance::new(application.clone(), address.clone()).metadata_storage(self.metadata_storage);
        for (descriptor, group) in router.registrations() {
            let mut base = Instance::new(descriptor.name, address.clone())
                .version(descriptor.version)
                .group(group)
                .weight(self.weight);
            base.metadata = self.metadata.clone();
            base.metadata.insert("timestamp".into(), timestamp.clone());
            for mut instance in per_protocol(&base, descriptor, &application) {
                if instance.protocol == Protocol::Dubbo.registry_name() {
                    if let Some(dubbo_address) = &dubbo_address {
                        instance.address = dubbo_address.clone();
                    }
                }
                if self.mode.application_level() {
                    application_instance.services.push(instance.clone());
                }
                if !self.mode.interface_level() {
                    continue;
                }
                match registry.register(instance.clone()).await {
                    Ok(()) => {
                        tracing::info!(service = %instance.service, protocol = %instance.protocol, address = %instance.address, "registered")
                    }
                    Err(e) => {
                        tracing::warn!(service = %instance.service, address = %instance.address, error = %e, "registration failed")
                    }
                }
                instances.push(instance);
            }
        }
        let application = if application_instance.services.is_empty() {
            None
        } else {
            match registry.register_application(application_instance.clone()).await {
                Ok(()) => {
                    tracing::info!(application = %application_instance.application, %address, "registered the application instance")
                }
                Err(e) => {
                    tracing::warn!(application = %application_instance.application, %address, error = %e, "application registration failed")
                }
            }
            Some(application_instance)
        };
        Registered { registry: Some(registry), instances, application }
    }
}

/// One registration per protocol the port serves, each with the serialization it carries
/// there: `rpc://` for our consumers, and `tri://` and `dubbo://` with the parameters a Java
/// Dubbo 3.3 consumer matches and merges (`interface`, `methods`, `application`, `side`,
/// `dubbo`, `release`, `serialization`, `prefer.serialization`, `deprecated`, `dynamic`) and
/// Python Dubbo's `service`. dubbo2 carries Hessian2 only, so a protobuf service (prost
/// types, no serde) is not registered there.
fn per_protocol(base: &Instance, descriptor: &ServiceDescriptor, application: &str) -> Vec<Instance> {
    let declared = descriptor.serialization;
    let mut instances = Vec::new();
    let mut rpc = base.clone();
    rpc.protocol = Protocol::Binary.registry_name().into();
    rpc.serialization = declared.name().into();
    instances.push(rpc);
    let mut methods: Vec<&str> =
        descriptor.methods.iter().filter(|m| m.kind == MethodKind::Unary).map(|m| m.name).collect();
    methods.sort_unstable();
    let mut dubbo_like = |protocol: &str, serialization: SerializationId| {
        let mut instance = base.clone();
        instance.protocol = protocol.into();
        instance.serialization = serialization.name().into();
        let params = [
            ("interface", descriptor.name.to_string()),
            ("service", descriptor.name.to_string()),
            ("methods", methods.join(",")),
            ("application", application.to_string()),
            ("dubbo", rpc_codec::dubbo::DUBBO_VERSION.to_string()),
            ("release", concat!("rpc-rust-", env!("CARGO_PKG_VERSION")).to_string()),
            ("revision", env!("CARGO_PKG_VERSION").to_string()),
            ("prefer.serialization", serialization.name().to_string()),
            ("deprecated", "false".to_string()),
            ("dynamic", "true".to_string()),
            ("generic", "false".to_string()),
        ];
        for (key, value) in params {
            instance.metadata.entry(key.into()).or_insert(value);
        }
        instances.push(instance);
    };
    dubbo_like("tri", declared);
    if declared != SerializationId::Protobuf {
        dubbo_like("dubbo", SerializationId::Hessian2);
    }
    instances
}

impl Registered {
    /// The application instance registered, if any.
    pub(crate) fn application(&self) -> Option<&ApplicationInstance> {
        self.application.as_ref()
    }

    /// Registers what [`deregister`](Self::deregister) removed (the admin port's `/online`).
    pub(crate) async fn register_again(&self) {
        let Some(registry) = &self.registry else { return };
        for instance in &self.instances {
            match registry.register(instance.clone()).await {
                Ok(()) => tracing::info!(service = %instance.service, address = %instance.address, "registered again"),
                Err(e) => tracing::warn!(service = %instance.service, error = %e, "registration failed"),
            }
        }
        if let Some(application) = &self.application {
            if let Err(e) = registry.register_application(application.clone()).await {
                tracing::warn!(application = %application.application, error = %e, "application registration failed");
            }
        }
    }

    pub(crate) async fn deregister(&self) {
        let Some(registry) = &self.registry else { return };
        if let Some(application) = &self.application {
            match registry.deregister_application(application).await {
                Ok(()) => {
                    tracing::info!(application = %application.application, "deregistered the application instance")
                }
                Err(e) => tracing::warn!(application = %application.application, error = %e, "deregistration failed"),
            }
        }
        for instance in &self.instances {
            match registry.deregister(instance).await {
                Ok(()) => tracing::info!(service = %instance.service, address = %instance.address, "deregistered"),
                Err(e) => tracing::warn!(service = %instance.service, error = %e, "deregistration failed"),
            }
        }
    }
}

/// `address` (`host:port`) with another port.
fn with_port(address: &str, port: u16) -> String {
    let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
    format!("{host}:{port}")
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
