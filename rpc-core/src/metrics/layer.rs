use std::sync::Arc;

use tower::Layer;

use super::names::{Naming, Side};
use super::series::SeriesCache;
use super::Metrics;

/// Records every call through it: counts by status code, duration, in flight, per service
/// and method (see the [module](super) for the names).
///
/// On a provider, add it to the server, where it sees every protocol's calls; on a
/// consumer, wrap the channel a typed client sends through:
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// # async fn run() -> Result<(), rpc::Status> {
/// use rpc::metrics::MetricsLayer;
/// use tower::Layer;
/// let server = rpc::Server::builder().layer(MetricsLayer::server());
/// # drop(server);
/// let channel = rpc::Channel::builder().endpoints(["127.0.0.1:50051"]).build()?;
/// let measured = MetricsLayer::client().layer(channel);
/// # drop(measured);
/// # Ok(())
/// # }
/// ```
///
/// A layer's clones share its series; two layers of one side and naming record into the
/// same series (the recorder keys them by name and labels).
#[derive(Clone)]
pub struct MetricsLayer {
    series: Arc<SeriesCache>,
}

impl MetricsLayer {
    /// A provider's: `rpc_server_…`.
    pub fn server() -> MetricsLayer {
        MetricsLayer::of(Side::Server, Naming::Rpc)
    }

    /// A consumer's: `rpc_client_…`.
    pub fn client() -> MetricsLayer {
        MetricsLayer::of(Side::Client, Naming::Rpc)
    }

    /// The same measurements under Apache Dubbo's names and labels
    /// (`dubbo_provider_requests_total{application_name, interface, method, group, version}`,
    /// `…_succeed_total`, `…_failed_total`, `…_timeout_total`, `…_limit_total`,
    /// `…_processing_total`, `…_rt_milliseconds_last`, `…_rt_milliseconds_histogram_seconds`;
    /// `dubbo_consumer_…` on a consumer), for dashboards built for Java Dubbo.
    ///
    /// ```
    /// # mod rpc { pub use rpc_core::*; }
    /// let layer = rpc::metrics::MetricsLayer::server().dubbo_names("greeter-app");
    /// # drop(layer);
    /// ```
    pub fn dubbo_names(self, application: impl Into<String>) -> MetricsLayer {
        MetricsLayer::of(self.series.side(), Naming::Dubbo { application: application.into() })
    }

    fn of(side: Side, naming: Naming) -> MetricsLayer {
        MetricsLayer { series: Arc::new(SeriesCache::new(side, naming)) }
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = Metrics<S>;

    fn layer(&self, inner: S) -> Metrics<S> {
        Metrics::new(inner, self.series.clone())
    }
}
