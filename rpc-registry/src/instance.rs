use std::collections::BTreeMap;

/// One provider of one service, as a registry records it.
///
/// ```
/// # mod rpc { pub mod registry { pub use rpc_registry::*; } }
/// use rpc::registry::Instance;
/// let instance = Instance::new("demo.Greeter", "127.0.0.1:20880").version("1.0.0").weight(200);
/// assert_eq!(instance.weight, 200);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Instance {
    /// The service's wire name.
    pub service: String,
    /// The service version it provides; empty when unversioned.
    pub version: String,
    /// The service group; empty for the default group.
    pub group: String,
    /// The wire protocol the provider speaks at `address` (`rpc` for the binary protocol).
    pub protocol: String,
    /// `host:port`.
    pub address: String,
    /// Relative share of traffic for weighted balancers (100 = normal).
    pub weight: u32,
    /// The serialization the provider prefers (`msgpack`, `json`, `protobuf`).
    pub serialization: String,
    /// Other key-value settings it registered (e.g. `timestamp`, when it registered).
    pub metadata: BTreeMap<String, String>,
}

impl Instance {
    /// An instance of `service` at `address` (`host:port`), weight 100, protocol `rpc`.
    pub fn new(service: impl Into<String>, address: impl Into<String>) -> Instance {
        Instance {
            service: service.into(),
            version: String::new(),
            group: String::new(),
            protocol: "rpc".into(),
            address: address.into(),
            weight: 100,
            serialization: "msgpack".into(),
            metadata: BTreeMap::new(),
        }
    }
    /// The version it provides.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }
    /// The group it is in.
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = group.into();
        self
    }
    /// Its share of traffic relative to others (100 = normal).
    pub fn weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }

    /// Two records are the same registration when they name the same service, version,
    /// group, protocol and address; weight and metadata may change under it.
    pub fn same_registration(&self, other: &Instance) -> bool {
        (&self.service, &self.version, &self.group, &self.protocol, &self.address)
            == (&other.service, &other.version, &other.group, &other.protocol, &other.address)
    }
}

/// The live instances of a service after a change, and the change itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceSet {
    /// Every instance now.
    pub instances: Vec<Instance>,
    /// Instances new since the last set.
    pub added: Vec<Instance>,
    /// Instances gone since the last set.
    pub removed: Vec<Instance>,
}

impl InstanceSet {
    /// The set `current`, described as a change from `previous`.
    pub fn diff(previous: &[Instance], current: Vec<Instance>) -> InstanceSet {
        let added = current.iter().filter(|i| !previous.contains(i)).cloned().collect();
        let removed = previous.iter().filter(|i| !current.contains(i)).cloned().collect();
        InstanceSet { instances: current, added, removed }
    }
}
