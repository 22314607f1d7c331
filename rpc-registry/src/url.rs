use std::sync::{Arc, OnceLock};
use std::time::Duration;

#[cfg(any(feature = "etcd", feature = "zookeeper"))]
use crate::Credentials;
use crate::{FileRegistry, MemoryRegistry, Registry, RegistryError, StaticRegistry};

/// The registry a URL names:
///
/// | URL | registry |
/// |---|---|
/// | `file:///path?ttl=10s` (or `file://` for the default directory) | [`FileRegistry`], the embedded default |
/// | `etcd://[user:password@]host:port[,host:port][?prefix=/dubbo&ttl=10s&ca=FILE&cert=FILE&key=FILE]` | [`EtcdRegistry`](crate::EtcdRegistry) (`ca=` for TLS) |
/// | `zookeeper://[user:password@]host:port[,host:port][?session=10s]` | [`ZookeeperRegistry`](crate::ZookeeperRegistry) (credentials: ZooKeeper's digest) |
/// | `memory://` | one [`MemoryRegistry`] shared by the whole process |
/// | `static://host:port,host:port` | [`StaticRegistry`] |
///
/// ```
/// # mod rpc { pub mod registry { pub use rpc_registry::*; } }
/// # tokio_test_block_on(async {
/// let registry = rpc::registry::connect("static://127.0.0.1:20880").await.unwrap();
/// assert!(rpc::registry::connect("gopher://x").await.is_err());
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
pub async fn connect(url: &str) -> Result<Arc<dyn Registry>, RegistryError> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| RegistryError::Invalid(format!("{url:?} is not a registry URL (scheme://…)")))?;
    let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
    let option = |name: &str| {
        query.split('&').filter_map(|pair| pair.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    };
    let duration = |name: &str| -> Result<Option<Duration>, RegistryError> {
        option(name)
            .map(|v| {
                parse_duration(&v)
                    .ok_or_else(|| RegistryError::Invalid(format!("{name}={v} is not a duration (e.g. 500ms, 10s)")))
            })
            .transpose()
    };
    match scheme {
        "file" => {
            let root = if location.is_empty() { FileRegistry::default_dir() } else { location.into() };
            let ttl = duration("ttl")?.unwrap_or(crate::file::DEFAULT_TTL);
            Ok(Arc::new(FileRegistry::with_ttl(root, ttl)))
        }
        "memory" => {
            static SHARED: OnceLock<MemoryRegistry> = OnceLock::new();
            Ok(Arc::new(SHARED.get_or_init(MemoryRegistry::new).clone()))
        }
        "static" => {
            let addresses: Vec<&str> = location.split(',').map(str::trim).filter(|a| !a.is_empty()).collect();
            if addresses.is_empty() {
                return Err(RegistryError::Invalid("static:// needs at least one host:port".into()));
            }
            Ok(Arc::new(StaticRegistry::new(addresses)))
        }
        #[cfg(feature = "etcd")]
        "etcd" => {
            let (credentials, hosts) = Credentials::split_from(location);
            let mut security = crate::EtcdSecurity { credentials, ca: option("ca").map(Into::into), client_cert: None };
            match (option("cert"), option("key")) {
                (Some(cert), Some(key)) => security.client_cert = Some((cert.into(), key.into())),
                (None, None) => {}
                _ => return Err(RegistryError::Invalid("etcd's cert= and key= go together".into())),
            }
            if security.client_cert.is_some() && security.ca.is_none() {
                return Err(RegistryError::Invalid("etcd's cert= needs ca= (TLS)".into()));
            }
            let scheme = if security.ca.is_some() { "https" } else { "http" };
            let endpoints: Vec<String> = hosts.split(',').map(|a| format!("{scheme}://{}", a.trim())).collect();
            let prefix = option("prefix").unwrap_or_else(|| crate::etcd::DEFAULT_PREFIX.to_string());
            let ttl = duration("ttl")?.unwrap_or(crate::etcd::DEFAULT_TTL);
            Ok(Arc::new(crate::EtcdRegistry::connect_secured(endpoints, prefix, ttl, &security).await?))
        }
        #[cfg(feature = "zookeeper")]
        "zookeeper" | "zk" => {
            let (credentials, hosts) = Credentials::split_from(location);
            let session = duration("session")?.unwrap_or(crate::zookeeper::DEFAULT_SESSION_TIMEOUT);
            Ok(Arc::new(crate::ZookeeperRegistry::connect_as(hosts, session, credentials).await?))
        }
        #[cfg(not(feature = "etcd"))]
        "etcd" => Err(RegistryError::Invalid("etcd support is not built in: enable the `etcd` feature of rpc".into())),
        #[cfg(not(feature = "zookeeper"))]
        "zookeeper" | "zk" => Err(RegistryError::Invalid(
            "ZooKeeper support is not built in: enable the `zookeeper` feature of rpc".into(),
        )),
        other => Err(RegistryError::Invalid(format!(
            "unknown registry scheme {other:?} (expected file, etcd, zookeeper, memory or static)"
        ))),
    }
}

/// `500ms`, `10s`, `2m`, or a bare number of seconds.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: f64 = number.parse().ok()?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(seconds).ok()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_duration("1m"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("soon"), None);
    }
}
