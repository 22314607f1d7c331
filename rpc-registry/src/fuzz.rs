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

/// The fuzz targets' entry points on random input in the normal suite, so a parser that
/// stops being total fails `cargo test` too, not only a fuzzing run.
#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn provider_nodes_never_panic(node in "(dubbo|tri|rest)?(%3A%2F%2F)?\\PC{0,40}(%3F|%26|%3D|%)?\\PC{0,20}") {
            super::provider_node("demo.Greeter", &node);
        }

        #[test]
        fn registry_url_options_never_panic(text in "\\PC{0,24}") {
            super::registry_url_parts(&text);
        }

        #[test]
        fn application_records_never_panic(
            metadata in proptest::collection::vec(any::<u8>(), 0..128),
            record in proptest::collection::vec(any::<u8>(), 0..128),
        ) {
            super::application_records(&metadata, &record);
        }

        #[test]
        fn application_records_shaped_like_json_never_panic(
            revision in "[0-9a-f]{0,8}",
            port in any::<i64>(),
            service in "\\PC{0,12}",
        ) {
            let metadata = format!(
                r#"{{"app":"a","revision":"{revision}","services":{{"{service}:tri":{{"name":"{service}","protocol":"tri","port":{port},"params":{{}}}}}}}}"#
            );
            let record = format!(
                r#"{{"name":"a","id":"x","address":"127.0.0.1","port":{port},"payload":{{"metadata":{{"dubbo.metadata.revision":"{revision}","dubbo.endpoints":"[{{\"port\":{port},\"protocol\":\"tri\"}}]"}}}}}}"#
            );
            super::application_records(metadata.as_bytes(), record.as_bytes());
        }
    }
}
