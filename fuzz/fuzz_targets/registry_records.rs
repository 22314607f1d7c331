//! What a registry hands a consumer: provider URLs (ZooKeeper node names, etcd keys),
//! application metadata and instance records (JSON), and a registry URL's options.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    rpc_registry::fuzz::provider_node("demo.Greeter", &text);
    rpc_registry::fuzz::registry_url_parts(&text);
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (metadata, record) = data.split_at(split);
    rpc_registry::fuzz::application_records(metadata, record.get(1..).unwrap_or_default());
});
