//! Entry points for the fuzz targets (`fuzz/`): the parsers of what a registry hands us,
//! which anyone who can write to the registry controls. Not part of the API.

/// Parses a provider node's name (a URL-encoded Dubbo URL) as ZooKeeper and etcd list them.
pub fn provider_node(service: &str, node: &str) {
    if let Some(instance) = crate::dubbo_url::parse_node(service, node) {
        let _ = crate::dubbo_url::provider_url(&instance);
    }
}

/// Parses an application's metadata (Dubbo's `MetadataInfo` JSON) and an application
/// instance's record (Curator's JSON), and derives from them what a consumer would: the
/// interface-level instances and where to ask the `MetadataService`.
pub fn application_records(metadata: &[u8], record: &[u8]) {
    let metadata = crate::dubbo_metadata::MetadataInfo::parse(metadata);
    #[cfg(any(feature = "etcd", feature = "zookeeper"))]
    if let Some(record) = crate::dubbo_instance::InstanceRecord::parse(record) {
        let revision = record.revision().unwrap_or_default().to_string();
        let _ = record.metadata_service(&revision);
        if let Some(metadata) = &metadata {
            for service in metadata.services.values() {
                let _ = record.instances(&service.name, metadata);
            }
        }
    }
    let _ = (metadata, record);
}

/// Parses a registry URL's options: durations and credentials.
pub fn registry_url_parts(text: &str) {
    let _ = crate::url::parse_duration(text);
    let _ = crate::Credentials::split_from(text);
}
