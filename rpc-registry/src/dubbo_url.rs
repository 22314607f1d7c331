//! Dubbo's provider URLs as registry keys: what ZooKeeper node names and etcd keys hold in
//! Dubbo's layout, `/dubbo/{interface}/{category}/{URL-encoded provider URL}`.

// Without a remote backend only the URL parameters are used (by the application metadata).
#![cfg_attr(not(any(feature = "etcd", feature = "zookeeper")), allow(dead_code))]

use std::collections::BTreeMap;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::Instance;

/// What Java's `URLEncoder` leaves alone, as Dubbo encodes provider URLs into node names.
pub(crate) const URL_ENCODED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'*');

/// The protocol of a consumer's registration (Dubbo's `consumer://` URLs).
pub(crate) const CONSUMER: &str = "consumer";

/// `consumer` as the registration of a consumer (`consumer://` URLs).
pub(crate) fn as_consumer(consumer: &Instance) -> Instance {
    Instance { protocol: CONSUMER.into(), ..consumer.clone() }
}

/// `s` encoded as Java's `URLEncoder` does it (one path component).
pub(crate) fn encode(s: &str) -> String {
    utf8_percent_encode(s, URL_ENCODED).to_string()
}

/// `{root}/{service}/{category}`: `providers`, `consumers`, `configurators`, `routers`.
pub(crate) fn category_path(root: &str, service: &str, category: &str) -> String {
    format!("{root}/{}/{category}", encode(service))
}

/// The path of `instance`'s node under its service's `category`.
pub(crate) fn node_path(root: &str, instance: &Instance, category: &str) -> String {
    format!("{}/{}", category_path(root, &instance.service, category), encode(&provider_url(instance)))
}

/// The provider URL Dubbo expects, for a node name: parameters sorted by key and empty ones
/// left out, as Java's `URL.toFullString` writes them.
pub(crate) fn provider_url(instance: &Instance) -> String {
    let params: Vec<String> =
        url_params(instance).iter().map(|(key, value)| format!("{}={}", encode(key), encode(value))).collect();
    format!("{}://{}/{}?{}", instance.protocol, instance.address, instance.service, params.join("&"))
}

/// The parameters of `instance`'s URL, sorted, empty ones left out: its metadata, and its
/// fields under Dubbo's keys (`version`, `group`, `weight`, `serialization`, `side`).
pub(crate) fn url_params(instance: &Instance) -> BTreeMap<String, String> {
    let mut query = instance.metadata.clone();
    let mut set = |key: &str, value: &str| query.insert(key.to_string(), value.to_string());
    set("version", &instance.version);
    set("group", &instance.group);
    if instance.protocol == CONSUMER {
        set("side", "consumer");
        set("category", "consumers");
    } else {
        set("weight", &instance.weight.to_string());
        set("serialization", &instance.serialization);
        set("side", "provider");
    }
    query.retain(|_, value| !value.is_empty());
    query
}

/// An instance from a provider node's name (a URL-encoded provider URL).
pub(crate) fn parse_node(service: &str, node: &str) -> Option<Instance> {
    let url = percent_decode_str(node).decode_utf8().ok()?;
    let (protocol, rest) = url.split_once("://")?;
    let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
    let address = location.split('/').next()?.to_string();
    let mut params = BTreeMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode_str(key).decode_utf8().ok()?.to_string();
        let value = percent_decode_str(value).decode_utf8().ok()?.to_string();
        params.insert(key, value);
    }
    Some(from_params(service, protocol, address, params))
}

/// An instance of `service` at `address` from a provider's Dubbo parameters: `version`,
/// `group`, `weight` and `serialization` become its fields, the rest its metadata.
pub(crate) fn from_params(
    service: &str,
    protocol: &str,
    address: String,
    params: BTreeMap<String, String>,
) -> Instance {
    let mut instance = Instance::new(service, address);
    instance.protocol = protocol.to_string();
    let mut serialization = None;
    for (key, value) in params {
        match key.as_str() {
            "version" => instance.version = value,
            "group" => instance.group = value,
            "weight" => instance.weight = value.parse().unwrap_or(100),
            "serialization" => serialization = Some(value),
            "side" => {}
            _ => {
                instance.metadata.insert(key, value);
            }
        }
    }
    match serialization {
        Some(serialization) => instance.serialization = serialization,
        // Dubbo's default serialization, when a Java provider leaves it out.
        None if protocol == "dubbo" => instance.serialization = "hessian2".into(),
        None => {}
    }
    instance
}

#[cfg(test)]
mod tests {
    use super::{encode, parse_node, provider_url};
    use crate::Instance;

    #[test]
    fn provider_urls_round_trip_through_node_names() {
        let mut instance = Instance::new("demo.Greeter", "127.0.0.1:20880").version("1.0.0").group("blue").weight(250);
        instance.metadata.insert("timestamp".into(), "1700000000000".into());
        instance.metadata.insert("region".into(), "eu west".into());
        let url = provider_url(&instance);
        assert!(url.starts_with("rpc://127.0.0.1:20880/demo.Greeter?"), "{url}");
        let node = encode(&url);
        assert!(!node.contains('/'), "a node name is one path component");
        assert_eq!(parse_node("demo.Greeter", &node), Some(instance));
    }

    #[test]
    fn a_java_dubbo_url_without_serialization_means_hessian2() {
        let node = encode("dubbo://10.0.0.1:20880/demo.Greeter?application=java&side=provider");
        let instance = parse_node("demo.Greeter", &node).expect("parses");
        assert_eq!((instance.protocol.as_str(), instance.serialization.as_str()), ("dubbo", "hessian2"));
        assert_eq!(instance.metadata.get("application").map(String::as_str), Some("java"));
    }
}
