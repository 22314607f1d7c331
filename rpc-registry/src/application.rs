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
    /// Where consumers read its metadata from.
    pub metadata_storage: MetadataStorage,
}

/// Where consumers read an application instance's metadata from, as Dubbo's
/// `metadata-type` chooses it (written to the instance as `dubbo.metadata.storage-type`).
///
/// ```
/// # mod rpc { pub mod registry { pub use rpc_registry::*; } }
/// use rpc::registry::MetadataStorage;
/// assert_eq!("local".parse::<MetadataStorage>().unwrap(), MetadataStorage::Local);
/// assert_eq!(MetadataStorage::default(), MetadataStorage::Remote);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum MetadataStorage {
    /// The registry's metadata report (ZooKeeper's `/dubbo/metadata/{app}/{revision}`) as well
    /// as the provider's `MetadataService`: readable without calling the provider. Registries
    /// without a metadata report (etcd, as Dubbo's) store it `Local` instead.
    #[default]
    Remote,
    /// Only the provider's `MetadataService` (Dubbo's default).
    Local,
}

impl MetadataStorage {
    /// The name Dubbo writes: `remote` or `local`.
    pub fn name(self) -> &'static str {
        match self {
            MetadataStorage::Remote => "remote",
            MetadataStorage::Local => "local",
        }
    }
}

impl std::str::FromStr for MetadataStorage {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "remote" => Ok(MetadataStorage::Remote),
            "local" => Ok(MetadataStorage::Local),
            other => Err(format!("metadata storage {other:?} is not remote or local")),
        }
    }
}

impl ApplicationInstance {
    /// An instance of `application` at `address`, serving nothing yet.
    pub fn new(application: impl Into<String>, address: impl Into<String>) -> ApplicationInstance {
        ApplicationInstance {
            application: application.into(),
            address: address.into(),
            services: Vec::new(),
            metadata_storage: MetadataStorage::default(),
        }
    }

    /// Where consumers read its metadata from.
    pub fn metadata_storage(mut self, storage: MetadataStorage) -> Self {
        self.metadata_storage = storage;
        self
    }

    /// Adds a registration it serves.
    pub fn service(mut self, instance: Instance) -> Self {
        self.services.push(instance);
        self
    }
}
