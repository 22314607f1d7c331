//! Dubbo 3's application-level discovery records, as JSON: the metadata of an application
//! (`MetadataInfo`, stored under `/dubbo/metadata/{app}/{revision}` when its storage type is
//! `remote`) and the instance record Apache Curator's service discovery keeps under
//! `/services/{app}/{host:port}` (Dubbo's `ZookeeperServiceDiscovery` is built on it).
//!
//! The revision is Dubbo's: the MD5, in lower-case hex, of the application's name followed by
//! each service's description (`matchKey + port + path + params`, services in key order,
//! params as Java prints a `TreeMap`), so it changes exactly when what is served changes.

use std::collections::BTreeMap;

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

use crate::dubbo_url::{from_params, url_params};
use crate::{ApplicationInstance, Instance};

/// Where Curator's service discovery keeps application instances in Dubbo's layout.
pub(crate) const SERVICES_ROOT: &str = "/services";
/// The payload class Dubbo's ZooKeeper discovery reads instance records into.
const PAYLOAD_CLASS: &str = "org.apache.dubbo.registry.zookeeper.ZookeeperInstance";
/// The metadata keys of an instance record (`ServiceInstanceMetadataUtils`).
const REVISION: &str = "dubbo.metadata.revision";
const STORAGE_TYPE: &str = "dubbo.metadata.storage-type";
const ENDPOINTS: &str = "dubbo.endpoints";
/// Metadata a consumer reads from the metadata report, not from the provider's
/// `MetadataService` (which `local`, Dubbo's default, would need).
const REMOTE: &str = "remote";
/// URL parameters left out of a service's metadata: they change on every start, and the
/// revision must not.
const VARIABLE_PARAMS: [&str; 2] = ["timestamp", "pid"];

/// Dubbo's `MetadataInfo`: an application's services, keyed by match key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MetadataInfo {
    pub(crate) app: String,
    pub(crate) revision: String,
    #[serde(default)]
    pub(crate) services: BTreeMap<String, ServiceInfo>,
}

/// Dubbo's `MetadataInfo.ServiceInfo`: one service on one protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct ServiceInfo {
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) protocol: Option<String>,
    pub(crate) port: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) path: Option<String>,
    pub(crate) params: BTreeMap<String, String>,
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

fn port_of(address: &str) -> Option<u16> {
    address.rsplit_once(':').and_then(|(_, port)| port.parse().ok())
}

fn host_of(address: &str) -> &str {
    address.rsplit_once(':').map_or(address, |(host, _)| host).trim_start_matches('[').trim_end_matches(']')
}

impl MetadataInfo {
    /// The metadata of `instance`, its revision computed as Dubbo computes it.
    pub(crate) fn of(instance: &ApplicationInstance) -> MetadataInfo {
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

    pub(crate) fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub(crate) fn parse(json: &[u8]) -> Option<MetadataInfo> {
        serde_json::from_slice(json).ok()
    }
}

/// Curator's `ServiceInstance<ZookeeperInstance>` JSON, as `JsonInstanceSerializer` writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InstanceRecord {
    pub(crate) name: String,
    pub(crate) id: String,
    pub(crate) address: String,
    #[serde(default)]
    pub(crate) port: Option<u16>,
    #[serde(default)]
    pub(crate) ssl_port: Option<u16>,
    #[serde(default)]
    pub(crate) payload: Option<InstancePayload>,
    #[serde(default, rename = "registrationTimeUTC")]
    pub(crate) registration_time_utc: u64,
    #[serde(default)]
    pub(crate) service_type: String,
    #[serde(default)]
    pub(crate) uri_spec: Option<serde_json::Value>,
}

/// Dubbo's `ZookeeperInstance` payload: the instance's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct InstancePayload {
    #[serde(rename = "@class", default)]
    pub(crate) class: String,
    #[serde(default)]
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) metadata: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
struct Endpoint {
    port: u16,
    protocol: String,
}

impl InstanceRecord {
    /// The record of `instance`, whose metadata has `revision` and is stored remotely.
    pub(crate) fn of(instance: &ApplicationInstance, revision: &str, now_ms: u64) -> InstanceRecord {
        let host = host_of(&instance.address).to_string();
        let port = port_of(&instance.address);
        // One endpoint per protocol, in name order, at the port its first registration names.
        let mut ports = BTreeMap::new();
        for service in &instance.services {
            if let Some(port) = port_of(&service.address) {
                ports.entry(service.protocol.as_str()).or_insert(port);
            }
        }
        let endpoints: Vec<Endpoint> =
            ports.into_iter().map(|(protocol, port)| Endpoint { port, protocol: protocol.to_string() }).collect();
        let metadata = BTreeMap::from([
            (ENDPOINTS.to_string(), serde_json::to_string(&endpoints).unwrap_or_default()),
            (REVISION.to_string(), revision.to_string()),
            (STORAGE_TYPE.to_string(), REMOTE.to_string()),
            ("timestamp".to_string(), now_ms.to_string()),
        ]);
        InstanceRecord {
            name: instance.application.clone(),
            id: instance.address.clone(),
            address: host,
            port,
            ssl_port: None,
            payload: Some(InstancePayload {
                class: PAYLOAD_CLASS.into(),
                id: instance.address.clone(),
                name: instance.application.clone(),
                metadata,
            }),
            registration_time_utc: now_ms,
            service_type: "DYNAMIC".into(),
            uri_spec: None,
        }
    }

    pub(crate) fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub(crate) fn parse(json: &[u8]) -> Option<InstanceRecord> {
        serde_json::from_slice(json).ok()
    }

    fn metadata(&self, key: &str) -> Option<&str> {
        self.payload.as_ref()?.metadata.get(key).map(String::as_str)
    }

    /// The revision of the metadata the instance serves.
    pub(crate) fn revision(&self) -> Option<&str> {
        self.metadata(REVISION)
    }

    /// Whether its metadata is in the metadata report (else only its `MetadataService` has it).
    pub(crate) fn metadata_is_remote(&self) -> bool {
        self.metadata(STORAGE_TYPE) == Some(REMOTE)
    }

    /// The instances of `service` this record serves, per `metadata`: one per protocol, at
    /// the port its endpoints give that protocol (else the service's, else the record's).
    pub(crate) fn instances(&self, service: &str, metadata: &MetadataInfo) -> Vec<Instance> {
        let endpoints: Vec<Endpoint> =
            self.metadata(ENDPOINTS).and_then(|json| serde_json::from_str(json).ok()).unwrap_or_default();
        metadata
            .services
            .values()
            .filter(|info| info.name == service)
            .filter_map(|info| {
                let protocol = info.protocol.as_deref().unwrap_or("dubbo");
                let port = endpoints
                    .iter()
                    .find(|e| e.protocol == protocol)
                    .map(|e| e.port)
                    .or_else(|| u16::try_from(info.port).ok().filter(|p| *p > 0))
                    .or(self.port)?;
                let address = if self.address.contains(':') {
                    format!("[{}]:{port}", self.address)
                } else {
                    format!("{}:{port}", self.address)
                };
                let mut params = info.params.clone();
                if let Some(version) = &info.version {
                    params.insert("version".into(), version.clone());
                }
                if let Some(group) = &info.group {
                    params.insert("group".into(), group.clone());
                }
                Some(from_params(service, protocol, address, params))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn application() -> ApplicationInstance {
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

    #[test]
    fn instance_records_round_trip_and_name_their_services() {
        let app = application();
        let metadata = MetadataInfo::of(&app);
        let record = InstanceRecord::of(&app, &metadata.revision, 1_700_000_000_000);
        let json: serde_json::Value = serde_json::from_slice(&record.to_json()).unwrap();
        assert_eq!(json["payload"]["@class"], PAYLOAD_CLASS);
        assert_eq!(json["id"], "10.0.0.7:20880");
        assert_eq!(json["address"], "10.0.0.7");
        assert_eq!(json["port"], 20880);
        assert_eq!(json["serviceType"], "DYNAMIC");
        assert_eq!(json["registrationTimeUTC"], 1_700_000_000_000u64);
        assert_eq!(
            json["payload"]["metadata"][ENDPOINTS],
            r#"[{"port":20880,"protocol":"dubbo"},{"port":20880,"protocol":"tri"}]"#
        );
        let read = InstanceRecord::parse(&record.to_json()).expect("parses");
        assert_eq!(read, record);
        assert!(read.metadata_is_remote());
        let read_metadata = MetadataInfo::parse(&metadata.to_json()).expect("parses");
        assert_eq!(read_metadata, metadata);
        let mut found = read.instances("org.apache.dubbo.samples.api.GreetingsService", &read_metadata);
        found.sort();
        let protocols: Vec<(&str, &str, &str)> =
            found.iter().map(|i| (i.protocol.as_str(), i.address.as_str(), i.version.as_str())).collect();
        assert_eq!(protocols, [("dubbo", "10.0.0.7:20880", "1.0.0"), ("tri", "10.0.0.7:20880", "1.0.0")]);
        assert_eq!(found[0].serialization, "hessian2");
        assert!(read.instances("other.Service", &read_metadata).is_empty());
    }

    #[test]
    fn garbage_records_are_none() {
        assert!(InstanceRecord::parse(b"{not json").is_none());
        assert!(InstanceRecord::parse(b"{}").is_none());
        assert!(MetadataInfo::parse(b"[1,2]").is_none());
    }
}
