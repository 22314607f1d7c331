//! The records of Dubbo 3's application-level discovery, one per application instance at
//! `/services/{app}/{host:port}`: the one Apache Curator's service discovery keeps in
//! ZooKeeper (Dubbo's `ZookeeperServiceDiscovery` is built on it), and the one Dubbo's
//! `EtcdServiceDiscovery` keeps in etcd (its `DefaultServiceInstance`, as Gson writes it).
//! Both carry the same metadata: endpoints, the revision of the application's metadata, where
//! that is stored, and how to reach the `MetadataService` that answers it.

#![cfg_attr(not(all(feature = "etcd", feature = "zookeeper")), allow(dead_code))]

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::dubbo_metadata::{port_of, MetadataInfo};
use crate::dubbo_url::from_params;
use crate::{ApplicationInstance, Instance, MetadataRequest, MetadataStorage};

/// Where Dubbo's service discoveries keep application instances (ZooKeeper and etcd alike).
pub(crate) const SERVICES_ROOT: &str = "/services";
/// The payload class Dubbo's ZooKeeper discovery reads instance records into.
const PAYLOAD_CLASS: &str = "org.apache.dubbo.registry.zookeeper.ZookeeperInstance";
/// The metadata keys of an instance record (`ServiceInstanceMetadataUtils`).
const REVISION: &str = "dubbo.metadata.revision";
const STORAGE_TYPE: &str = "dubbo.metadata.storage-type";
const ENDPOINTS: &str = "dubbo.endpoints";
const METADATA_SERVICE_PARAMS: &str = "dubbo.metadata-service.url-params";
const METADATA_SERVICE_VERSION_KEY: &str = "meta-v";
/// The version and protocol of the `MetadataService` a provider serves its metadata from
/// (its group is the application's name).
const METADATA_SERVICE_VERSION: &str = "1.0.0";
const METADATA_SERVICE_PROTOCOL: &str = "dubbo";

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

/// The metadata of an application instance's record, as Dubbo's
/// `ServiceInstanceMetadataUtils` fills it: one endpoint per protocol (in name order, at the
/// port its first registration names), the revision of the metadata and where it is stored,
/// and how to reach the `MetadataService` that answers it (over dubbo2, at the dubbo port).
fn record_metadata(
    instance: &ApplicationInstance,
    revision: &str,
    storage: MetadataStorage,
    now_ms: u64,
) -> BTreeMap<String, String> {
    let mut ports = BTreeMap::new();
    for service in &instance.services {
        if let Some(port) = port_of(&service.address) {
            ports.entry(service.protocol.as_str()).or_insert(port);
        }
    }
    let metadata_port = ports.get(METADATA_SERVICE_PROTOCOL).copied().or_else(|| port_of(&instance.address));
    let endpoints: Vec<Endpoint> =
        ports.into_iter().map(|(protocol, port)| Endpoint { port, protocol: protocol.to_string() }).collect();
    let mut metadata = BTreeMap::from([
        (ENDPOINTS.to_string(), serde_json::to_string(&endpoints).unwrap_or_default()),
        (REVISION.to_string(), revision.to_string()),
        (STORAGE_TYPE.to_string(), storage.name().to_string()),
        (METADATA_SERVICE_VERSION_KEY.to_string(), METADATA_SERVICE_VERSION.to_string()),
        ("timestamp".to_string(), now_ms.to_string()),
    ]);
    if let Some(port) = metadata_port {
        // The parameters a Java consumer builds the MetadataService's URL from (group: the
        // application), as `MetadataServiceURLParamsMetadataCustomizer` writes them.
        let dubbo = instance.services.iter().find(|s| s.protocol == METADATA_SERVICE_PROTOCOL);
        let param = |key: &str| dubbo.and_then(|s| s.metadata.get(key)).cloned();
        let mut params = BTreeMap::from([
            ("dubbo", param("dubbo").unwrap_or_else(|| "2.0.2".to_string())),
            ("port", port.to_string()),
            ("protocol", METADATA_SERVICE_PROTOCOL.to_string()),
            ("side", "provider".to_string()),
            ("version", METADATA_SERVICE_VERSION.to_string()),
        ]);
        if let Some(release) = param("release") {
            params.insert("release", release);
        }
        metadata.insert(METADATA_SERVICE_PARAMS.to_string(), serde_json::to_string(&params).unwrap_or_default());
    }
    metadata
}

fn host_of(address: &str) -> &str {
    address.rsplit_once(':').map_or(address, |(host, _)| host).trim_start_matches('[').trim_end_matches(']')
}

/// Where an application instance's record is kept: `/services/{app}/{host:port}`.
pub(crate) fn record_path(instance: &ApplicationInstance) -> String {
    format!("{SERVICES_ROOT}/{}/{}", instance.application, instance.address)
}

impl InstanceRecord {
    /// The record of `instance`, whose metadata has `revision` and is stored where the
    /// instance says.
    pub(crate) fn of(instance: &ApplicationInstance, revision: &str, now_ms: u64) -> InstanceRecord {
        let host = host_of(&instance.address).to_string();
        let port = port_of(&instance.address);
        let metadata = record_metadata(instance, revision, instance.metadata_storage, now_ms);
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
        self.metadata(STORAGE_TYPE) == Some(MetadataStorage::Remote.name())
    }

    /// Where its `MetadataService` answers `revision`: the host of the record at the port and
    /// protocol of `dubbo.metadata-service.url-params`, else the record's port over dubbo2
    /// (as a Java consumer falls back when the parameters are missing).
    pub(crate) fn metadata_service(&self, revision: &str) -> Option<MetadataRequest> {
        let params: BTreeMap<String, String> =
            self.metadata(METADATA_SERVICE_PARAMS).and_then(|json| serde_json::from_str(json).ok()).unwrap_or_default();
        let port = params.get("port").and_then(|p| p.parse::<u16>().ok()).or(self.port)?;
        let protocol = params.get("protocol").cloned().unwrap_or_else(|| METADATA_SERVICE_PROTOCOL.to_string());
        let address = self.address_at(port);
        Some(MetadataRequest { application: self.name.clone(), address, protocol, revision: revision.to_string() })
    }

    /// `host:port` of the record's host (an IPv6 one bracketed).
    fn address_at(&self, port: u16) -> String {
        if self.address.contains(':') {
            format!("[{}]:{port}", self.address)
        } else {
            format!("{}:{port}", self.address)
        }
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
                let address = self.address_at(port);
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

/// Dubbo's `DefaultServiceInstance` as Gson writes it: the record `EtcdServiceDiscovery` keeps
/// at `/services/{app}/{host:port}` in etcd. Dubbo's etcd metadata report stores no
/// application metadata, so its storage type is `local`: consumers ask the provider's
/// `MetadataService`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DubboInstanceRecord {
    pub(crate) service_name: String,
    pub(crate) host: String,
    pub(crate) port: u16,
    #[serde(default)]
    pub(crate) enabled: bool,
    #[serde(default)]
    pub(crate) healthy: bool,
    #[serde(default)]
    pub(crate) metadata: BTreeMap<String, String>,
}

impl DubboInstanceRecord {
    /// The record of `instance`, whose metadata has `revision`.
    pub(crate) fn of(instance: &ApplicationInstance, revision: &str, now_ms: u64) -> DubboInstanceRecord {
        DubboInstanceRecord {
            service_name: instance.application.clone(),
            host: host_of(&instance.address).to_string(),
            port: port_of(&instance.address).unwrap_or(0),
            enabled: true,
            healthy: true,
            metadata: record_metadata(instance, revision, MetadataStorage::Local, now_ms),
        }
    }

    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dubbo_metadata::tests::application;

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
    fn etcd_records_are_dubbos_default_service_instance_with_local_metadata() {
        let app = application();
        let metadata = MetadataInfo::of(&app);
        let record = DubboInstanceRecord::of(&app, &metadata.revision, 1_700_000_000_000);
        let json: serde_json::Value = serde_json::from_str(&record.to_json()).unwrap();
        assert_eq!(json["serviceName"], "rust-greetings");
        assert_eq!((json["host"].as_str(), json["port"].as_u64()), (Some("10.0.0.7"), Some(20880)));
        assert_eq!((json["enabled"].as_bool(), json["healthy"].as_bool()), (Some(true), Some(true)));
        let metadata_of = &json["metadata"];
        assert_eq!(metadata_of[STORAGE_TYPE], "local");
        assert_eq!(metadata_of[REVISION], metadata.revision.as_str());
        assert_eq!(metadata_of[METADATA_SERVICE_VERSION_KEY], "1.0.0");
        let params: serde_json::Value =
            serde_json::from_str(metadata_of[METADATA_SERVICE_PARAMS].as_str().unwrap()).unwrap();
        let expected = serde_json::json!({"dubbo": "2.0.2", "port": "20880", "protocol": "dubbo", "side": "provider", "version": "1.0.0"});
        assert_eq!(params, expected);
        assert_eq!(record_path(&app), "/services/rust-greetings/10.0.0.7:20880");
    }

    #[test]
    fn garbage_records_are_none() {
        assert!(InstanceRecord::parse(b"{not json").is_none());
        assert!(InstanceRecord::parse(b"{}").is_none());
        assert!(MetadataInfo::parse(b"[1,2]").is_none());
    }
}
