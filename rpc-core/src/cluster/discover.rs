use futures_util::stream::{self, StreamExt};
use rpc_registry::{Instance, InstanceSet, InstanceStream};

/// Where a cluster channel learns its endpoints: a stream of endpoint sets, one per change
/// (the first is the set at start), each carrying what was added and removed. A registry's
/// `subscribe` returns one; [`static_endpoints`] makes one from a fixed list.
pub type Discover = InstanceStream;

/// A fixed endpoint set for `service`: one set, then no changes. Addresses are `host:port`,
/// optionally with a weight as `host:port;weight=200`.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// # tokio_test_block_on(async {
/// use futures_util::StreamExt;
/// let mut sets = rpc::cluster::static_endpoints("demo.Greeter", ["127.0.0.1:1", "127.0.0.1:2;weight=300"]);
/// let set = sets.next().await.unwrap();
/// assert_eq!(set.instances[1].weight, 300);
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub fn static_endpoints<I, A>(service: &str, addresses: I) -> Discover
where
    I: IntoIterator<Item = A>,
    A: AsRef<str>,
{
    let instances: Vec<Instance> = addresses.into_iter().map(|a| parse(service, a.as_ref())).collect();
    let set = InstanceSet::diff(&[], instances);
    Box::pin(stream::once(async move { set }).chain(stream::pending()))
}

fn parse(service: &str, spec: &str) -> Instance {
    let mut parts = spec.split(';');
    let address = parts.next().unwrap_or_default().trim();
    let mut instance = Instance::new(service, address);
    for option in parts {
        if let Some(weight) = option.trim().strip_prefix("weight=").and_then(|w| w.parse().ok()) {
            instance.weight = weight;
        }
    }
    instance
}

/// The endpoint sets `registry` reports for `service`. A subscription that fails is retried
/// every second (the channel keeps its last set meanwhile).
pub(crate) fn from_registry(registry: std::sync::Arc<dyn rpc_registry::Registry>, service: String) -> Discover {
    let sets = stream::unfold(None::<Discover>, move |mut current| {
        let (registry, service) = (registry.clone(), service.clone());
        async move {
            loop {
                match current.as_mut() {
                    Some(sets) => match sets.next().await {
                        Some(set) => return Some((set, current)),
                        None => current = None,
                    },
                    None => match registry.subscribe(&service).await {
                        Ok(sets) => current = Some(sets),
                        Err(e) => {
                            tracing::warn!(%service, error = %e, "registry subscription failed; retrying");
                            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        }
                    },
                }
            }
        }
    });
    Box::pin(sets)
}
