//! Dubbo 3's application metadata (`MetadataInfo`): what one application serves, stored
//! under `/dubbo/metadata/{app}/{revision}` when its storage type is `remote`, and answered by
//! the provider's `MetadataService` either way.
//!
//! The revision is Dubbo's: the MD5, in lower-case hex, of the application's name followed by
//! each service's description (`matchKey + port + path + params`, services in key order,
//! params as Java prints a `TreeMap`), so it changes exactly when what is served changes.

use std::collections::BTreeMap;

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use crate::dubbo_url::url_params;
use crate::{ApplicationInstance, Instance};

/// URL parameters left out of a service's metadata: they change on every start, and the
/// revision must not.
const VARIABLE_PARAMS: [&str; 2] = ["timestamp", "pid"];

/// Dubbo's `MetadataInfo`: what one application serves, each service on each protocol keyed
/// by its match key, under a revision that names this content. A provider computes it from
/// its [`ApplicationInstance`]; consumers read it from the metadata report or the provider's
/// `MetadataService`.
///
/// ```
/// # mod rpc { pub mod registry { pub use rpc_registry::*; } }
/// use rpc::registry::{ApplicationInstance, Instance, MetadataInfo};
/// let mut tri = Instance::new("demo.Greeter", "10.0.0.7:20880").version("1.0.0");
/// tri.protocol = "tri".into();
/// let metadata = MetadataInfo::of(&ApplicationInstance::new("greeter-app", "10.0.0.7:20880").service(tri));
/// assert_eq!(metadata.revision.len(), 32);
/// assert_eq!(metadata.services["demo.Greeter:1.0.0:tri"].port, 20880);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataInfo {
    /// The application's name.
    pub app: String,
    /// The MD5 of the content, in lower-case hex; `0` when nothing is served.
    pub revision: String,
    /// The services, by match key (`{group/}{interface}{:version}:{protocol}`).
    #[serde(default)]
    pub services: BTreeMap<String, ServiceInfo>,
}

/// Dubbo's `MetadataInfo.ServiceInfo`: one service on one protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceInfo {
    /// The interface.
    pub name: String,
    /// Its group, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Its version, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The protocol it is served over (`tri`, `dubbo`, `rpc`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// The port it is served at; -1 when unknown.
    pub port: i32,
    /// The URL path, the interface unless configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The URL parameters of its registration, without those that change on every start.
    pub params: BTreeMap<String, String>,
}

impl Default for ServiceInfo {
    fn default() -> Self {
        ServiceInfo {
            name: String::new(),
            group: None,
            version: None,
            protocol: None,
            port: -1,
            path: None,
            params: BTreeMap::new(),
        }
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

impl ServiceInfo {
    fn of(instance: &Instance) -> ServiceInfo {
        let mut params = url_params(instance);
        params.retain(|key, _| !VARIABLE_PARAMS.contains(&key.as_str()));
        ServiceInfo {
            name: instance.service.clone(),
            group: non_empty(&instance.group),
            version: non_empty(&instance.version),
            protocol: non_empty(&instance.protocol),
            port: port_of(&instance.address).map_or(-1, i32::from),
            path: Some(instance.service.clone()),
            params,
        }
    }

    /// `{group/}name{:version}:protocol`, Dubbo's `getMatchKey`.
    fn match_key(&self) -> String {
        let mut key = String::new();
        if let Some(group) = self.group.as_deref().filter(|g| !g.is_empty()) {
            key.push_str(group);
            key.push('/');
        }
        key.push_str(&self.name);
        if let Some(version) = self.version.as_deref().filter(|v| !v.is_empty()) {
            key.push(':');
            key.push_str(version);
        }
        if let Some(protocol) = self.protocol.as_deref().filter(|p| !p.is_empty()) {
            key.push(':');
            key.push_str(protocol);
        }
        key
    }

    /// `matchKey + port + path + params`, as Java's `toDescString` concatenates them (a
    /// missing path prints `null`, a map `{k=v, k=v}`).
    fn description(&self) -> String {
        let params: Vec<String> = self.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{}{}{}{{{}}}", self.match_key(), self.port, self.path.as_deref().unwrap_or("null"), params.join(", "))
    }
}

pub(crate) fn port_of(address: &str) -> Option<u16> {
    address.rsplit_once(':').and_then(|(_, port)| port.parse().ok())
}

impl MetadataInfo {
    /// The metadata of `instance`, its revision computed as Dubbo computes it.
    pub fn of(instance: &ApplicationInstance) -> MetadataInfo {
        let services: BTreeMap<String, ServiceInfo> =
            instance.services.iter().map(ServiceInfo::of).map(|service| (service.match_key(), service)).collect();
        let revision = if services.is_empty() {
            "0".to_string()
        } else {
            let mut described = instance.application.clone();
            for service in services.values() {
                described.push_str(&service.description());
            }
            Md5::digest(described.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
        };
        MetadataInfo { app: instance.application.clone(), revision, services }
    }

    #[cfg_attr(not(feature = "zookeeper"), allow(dead_code))]
    pub(crate) fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub(crate) fn parse(json: &[u8]) -> Option<MetadataInfo> {
        serde_json::from_slice(json).ok()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn application() -> ApplicationInstance {
        let mut tri = Instance::new("org.apache.dubbo.samples.api.GreetingsService", "10.0.0.7:20880").version("1.0.0");
        tri.protocol = "tri".into();
        tri.metadata.insert("application".into(), "rust-greetings".into());
        tri.metadata.insert("timestamp".into(), "1700000000000".into());
        let mut dubbo = tri.clone();
        dubbo.protocol = "dubbo".into();
        dubbo.serialization = "hessian2".into();
        ApplicationInstance::new("rust-greetings", "10.0.0.7:20880").service(tri).service(dubbo)
    }

    #[test]
    fn the_revision_is_dubbos_md5_of_the_descriptions() {
        let metadata = MetadataInfo::of(&application());
        let keys: Vec<&str> = metadata.services.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "org.apache.dubbo.samples.api.GreetingsService:1.0.0:dubbo",
                "org.apache.dubbo.samples.api.GreetingsService:1.0.0:tri"
            ]
        );
        let tri = &metadata.services[keys[1]];
        assert_eq!(
            tri.description(),
            "org.apache.dubbo.samples.api.GreetingsService:1.0.0:tri20880org.apache.dubbo.samples.api.GreetingsService\
             {application=rust-greetings, serialization=msgpack, side=provider, version=1.0.0, weight=100}"
        );
        let described: String = std::iter::once("rust-greetings".to_string())
            .chain(metadata.services.values().map(ServiceInfo::description))
            .collect();
        let expected: String = Md5::digest(described.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(metadata.revision, expected);
        assert_eq!(metadata.revision.len(), 32);
        // A restart (a new timestamp) keeps the revision; serving something else changes it.
        let mut restarted = application();
        restarted.services[0].metadata.insert("timestamp".into(), "1800000000000".into());
        assert_eq!(MetadataInfo::of(&restarted).revision, metadata.revision);
        restarted.services[0].weight = 200;
        assert_ne!(MetadataInfo::of(&restarted).revision, metadata.revision);
        assert_eq!(MetadataInfo::of(&ApplicationInstance::new("empty", "10.0.0.7:1")).revision, "0");
    }

    #[test]
    fn md5_is_the_standard_one() {
        // RFC 1321's test vector: Java's MessageDigest gives the same.
        let hex: String = Md5::digest(b"abc").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "900150983cd24fb0d6963f7d28e17f72");
    }
}
