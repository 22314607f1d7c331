//! The cluster client's view of its providers as gauges, read from the channel's directory
//! on a timer: nothing on the call path.

use std::sync::Weak;
use std::time::Duration;

use metrics::Label;

use crate::cluster::{BreakerState, Directory};
use crate::Channel;

/// Records, every `every`, how a cluster channel sees each provider it balances over
/// (`service` and `endpoint` labels): `rpc_client_endpoint_breaker_state` (0 closed, 1
/// half-open, 2 open), `rpc_client_endpoint_connected` (0 or 1),
/// `rpc_client_endpoint_in_flight`, `rpc_client_endpoint_calls_total` (calls the balancer
/// sent it), and `rpc_client_endpoints` (how many there are). Stops when the channel is
/// dropped. A direct channel (one address, no directory) has nothing to report; this returns
/// false for it.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// # async fn run() -> Result<(), rpc::Status> {
/// let channel = rpc::Channel::builder().endpoints(["127.0.0.1:50051", "127.0.0.1:50052"]).build()?;
/// assert!(rpc::metrics::observe_endpoints(&channel, std::time::Duration::from_secs(5)));
/// # Ok(())
/// # }
/// ```
pub fn observe_endpoints(channel: &Channel, every: Duration) -> bool {
    let Some(directory) = channel.directory() else { return false };
    let directory = std::sync::Arc::downgrade(directory);
    tokio::spawn(observe(directory, every));
    true
}

async fn observe(directory: Weak<Directory>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(directory) = directory.upgrade() else { return };
        let service = directory.service().to_string();
        let endpoints = directory.endpoints();
        metrics::gauge!("rpc_client_endpoints", "service" => service.clone()).set(endpoints.len() as f64);
        for endpoint in endpoints {
            let labels = vec![Label::new("service", service.clone()), Label::new("endpoint", endpoint.address)];
            let breaker = match endpoint.breaker {
                BreakerState::Closed => 0.0,
                BreakerState::HalfOpen => 1.0,
                BreakerState::Open => 2.0,
            };
            metrics::gauge!("rpc_client_endpoint_breaker_state", labels.clone()).set(breaker);
            metrics::gauge!("rpc_client_endpoint_connected", labels.clone())
                .set(f64::from(u8::from(endpoint.connected)));
            metrics::gauge!("rpc_client_endpoint_in_flight", labels.clone()).set(f64::from(endpoint.in_flight));
            metrics::counter!("rpc_client_endpoint_calls_total", labels).absolute(endpoint.calls);
        }
    }
}
