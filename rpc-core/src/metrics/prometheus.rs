//! The process's Prometheus recorder, which the admin port's `/metrics` renders.

use std::sync::OnceLock;
use std::time::Duration;

pub use metrics_exporter_prometheus::PrometheusHandle;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};

/// Histogram buckets of every `…_seconds` series, 50 µs to 10 s: a call on one host takes
/// tens of microseconds, a slow one across a WAN seconds.
const BUCKETS: [f64; 17] =
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// How often recorded histogram values are folded into their buckets between scrapes, so
/// that an unscraped process does not keep every value.
const UPKEEP: Duration = Duration::from_secs(5);

static INSTALLED: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// Installs a Prometheus recorder as the process's [`metrics`] recorder (once; later calls
/// return the same handle) and returns the handle that renders it. Fails if another
/// recorder was installed first: its output is then the application's to expose.
///
/// Install it before serving or calling: series a [`MetricsLayer`](super::MetricsLayer)
/// registers while no recorder is installed stay silent.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// let prometheus = rpc::metrics::install_prometheus().expect("the process's first recorder");
/// assert!(prometheus.render().is_empty(), "nothing recorded yet");
/// ```
pub fn install_prometheus() -> Result<PrometheusHandle, String> {
    INSTALLED
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)
                .map_err(|e| e.to_string())?;
            let handle = builder.install_recorder().map_err(|e| {
                format!("cannot install the Prometheus recorder ({e}): another metrics recorder is installed")
            })?;
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("rpc-metrics-upkeep".into())
                .spawn(move || loop {
                    std::thread::sleep(UPKEEP);
                    upkeep.run_upkeep();
                })
                .map_err(|e| format!("cannot start the metrics upkeep thread: {e}"))?;
            Ok(handle)
        })
        .clone()
}

/// The handle [`install_prometheus`] returned, if it was called and succeeded.
pub fn prometheus_handle() -> Option<PrometheusHandle> {
    INSTALLED.get().and_then(|installed| installed.as_ref().ok()).cloned()
}
