//! Dubbo's `MetadataService` contract, shared by the provider that serves it
//! (`server::metadata_service`) and the consumer that asks it (`client::metadata_client`):
//! the interface `org.apache.dubbo.metadata.MetadataService`, version `1.0.0`, grouped by
//! application, whose `getMetadataInfo(revision)` answers Dubbo's `MetadataInfo` as the Java
//! objects Hessian2 names (`dubbo-metadata-api`'s `MetadataService.java`, `MetadataInfo.java`).

use std::collections::BTreeMap;

use rpc_codec::SerializationId;
use rpc_registry::{MetadataInfo, ServiceInfo};
use serde::{Deserialize, Serialize};

use crate::{MethodDescriptor, MethodKind, ServiceDescriptor};

/// The interface Java consumers call, its version and its one method they call.
pub(crate) const METADATA_SERVICE: &str = "org.apache.dubbo.metadata.MetadataService";
pub(crate) const METADATA_SERVICE_VERSION: &str = "1.0.0";
pub(crate) const GET_METADATA_INFO: &str = "getMetadataInfo";

pub(crate) static DESCRIPTOR: ServiceDescriptor = ServiceDescriptor {
    name: METADATA_SERVICE,
    version: METADATA_SERVICE_VERSION,
    serialization: SerializationId::Hessian2,
    methods: &[MethodDescriptor {
        name: GET_METADATA_INFO,
        arguments: &["revision"],
        idempotent: true,
        oneway: false,
        kind: MethodKind::Unary,
        java_parameters: "Ljava/lang/String;",
        java_return: "Lorg/apache/dubbo/metadata/MetadataInfo;",
    }],
};

/// `MetadataInfo` as Java's class has it, every field written (null where absent), so
/// Hessian names the classes a Java consumer reads it into; read back leniently (a Java
/// provider's object may lack fields or carry more).
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(rename = "org.apache.dubbo.metadata.MetadataInfo", default)]
pub(crate) struct JavaMetadataInfo {
    pub(crate) app: String,
    pub(crate) revision: String,
    pub(crate) services: BTreeMap<String, JavaServiceInfo>,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(rename = "org.apache.dubbo.metadata.MetadataInfo$ServiceInfo", default)]
pub(crate) struct JavaServiceInfo {
    pub(crate) name: String,
    pub(crate) group: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) protocol: Option<String>,
    pub(crate) port: i32,
    pub(crate) path: Option<String>,
    pub(crate) params: BTreeMap<String, String>,
}

impl Default for JavaServiceInfo {
    fn default() -> Self {
        JavaServiceInfo::of(&ServiceInfo::default())
    }
}

impl From<JavaMetadataInfo> for MetadataInfo {
    fn from(java: JavaMetadataInfo) -> MetadataInfo {
        let services = java
            .services
            .into_iter()
            .map(|(key, info)| {
                let info = ServiceInfo {
                    name: info.name,
                    group: info.group,
                    version: info.version,
                    protocol: info.protocol,
                    port: info.port,
                    path: info.path,
                    params: info.params,
                };
                (key, info)
            })
            .collect();
        MetadataInfo { app: java.app, revision: java.revision, services }
    }
}

impl JavaMetadataInfo {
    pub(crate) fn of(metadata: &MetadataInfo) -> JavaMetadataInfo {
        let services = metadata.services.iter().map(|(key, info)| (key.clone(), JavaServiceInfo::of(info))).collect();
        JavaMetadataInfo { app: metadata.app.clone(), revision: metadata.revision.clone(), services }
    }
}

impl JavaServiceInfo {
    fn of(info: &ServiceInfo) -> JavaServiceInfo {
        JavaServiceInfo {
            name: info.name.clone(),
            group: info.group.clone(),
            version: info.version.clone(),
            protocol: info.protocol.clone(),
            port: info.port,
            path: info.path.clone(),
            params: info.params.clone(),
        }
    }
}
