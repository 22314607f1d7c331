//! Cluster modes: what a call does when its endpoint fails (Dubbo's cluster strategies).

mod broadcast;
mod failback;
pub(crate) mod failover;
mod forking;

pub(crate) use failback::{spawn_failback, FailbackQueue};

use super::core::Core;
pub use super::mode_setting::Cluster;
use crate::{Request, Response, Status};

/// Runs `request` under `cluster` with balancer `balancer`.
pub(crate) async fn run(
    core: &Core,
    failback: Option<&FailbackQueue>,
    cluster: Cluster,
    balancer: usize,
    request: Request,
) -> Result<Response, Status> {
    match cluster {
        Cluster::Failover { retries } => failover::run(core, balancer, &request, retries).await,
        Cluster::Failfast => failover::run(core, balancer, &request, 0).await,
        Cluster::Failsafe => match failover::run(core, balancer, &request, 0).await {
            Ok(response) => Ok(response),
            Err(status) => {
                tracing::warn!(method = request.method(), error = %status, "failsafe: error ignored");
                Ok(Response::swallowed(status))
            }
        },
        Cluster::Failback { .. } => {
            let result = failover::run(core, balancer, &request, 0).await;
            match (result, failback) {
                (Err(status), Some(queue)) if request.oneway || request.idempotent => queue.offer(request, status),
                (result, _) => result,
            }
        }
        Cluster::Forking { parallel } => forking::run(core, balancer, &request, parallel.max(1)).await,
        Cluster::Broadcast => broadcast::run(core, &request).await,
    }
}
