use crate::Instance;

/// One running process of an application, as Dubbo 3's application-level discovery records
/// it: the application's name, the address it serves at, and every registration it serves
/// there (one per service and protocol).
///
/// Registries that keep Dubbo's application-level layout write it as an instance record
/// under `/services/{application}/`: ZooKeeper with the interface→application mapping and the
/// application's metadata beside it, etcd alone (as Dubbo's etcd discovery keeps it); the
/// others keep nothing.
///
/// ```
/// # mod rpc { pub mod registry { pub use rpc_registry::*; } }
/// use rpc::registry::{ApplicationInstance, Instance};
/// let mut tri = Instance::new("demo.Greeter", "10.0.0.7:20880");
/// tri.protocol = "tri".into();
/// let instance = ApplicationInstance::new("greeter-app", "10.0.0.7:20880").service(tri);
/// assert_eq!(instance.services.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationInstance {
    /// The application's name (Dubbo's `application`).
    pub application: String,
    /// `host:port`.
    pub address: String,
    /// The registrations it serves at `address`.
    pub services: Vec<Instance>,
}

impl ApplicationInstance {
    /// An instance of `application` at `address`, serving nothing yet.
    pub fn new(application: impl Into<String>, address: impl Into<String>) -> ApplicationInstance {
        ApplicationInstance { application: application.into(), address: address.into(), services: Vec::new() }
    }

    /// Adds a registration it serves.
    pub fn service(mut self, instance: Instance) -> Self {
        self.services.push(instance);
        self
    }
}
