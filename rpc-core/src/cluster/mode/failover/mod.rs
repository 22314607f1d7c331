//! Failover (and failfast, its no-retry case): one attempt, then others on other endpoints
//! while the error allows it. The first attempt of most calls takes the fast path of
//! [`FirstAttempt`]; the retries, and calls that must wait for an endpoint set or a
//! connection, run here.

mod first_attempt;

use std::sync::Arc;
use std::time::Instant;

pub(crate) use first_attempt::FirstAttempt;

use super::Cluster;
use crate::cluster::clock;
use crate::cluster::core::{Core, Tried};
use crate::cluster::directory::Snapshot;
use crate::{Code, Request, Response, Status};

/// The retries of the modes whose first attempt takes [`FirstAttempt`]'s fast path:
/// failover's, and failfast's none. Other modes run on the general path.
pub(crate) fn fast_path_retries(cluster: Cluster) -> Option<usize> {
    match cluster {
        Cluster::Failover { retries } => Some(retries),
        Cluster::Failfast => Some(0),
        _ => None,
    }
}

/// One attempt, then up to `retries` more on other endpoints while the error allows it, the
/// deadline has time left and the retry budget pays.
pub(super) async fn run(core: &Core, balancer: usize, request: &Request, retries: usize) -> Result<Response, Status> {
    let snapshot = core.directory.ready_snapshot(request.deadline()).await?;
    core.budget.deposit(clock::coarse());
    let mut tried = Tried::new();
    let first = core.attempt(&snapshot, balancer, request, &mut tried).await;
    after_first(core, &snapshot, balancer, request, retries, tried, first).await
}

/// What follows the first attempt's `result` (made on the endpoints in `tried`): the result
/// itself, or the retries.
pub(crate) async fn after_first(
    core: &Core,
    snapshot: &Arc<Snapshot>,
    balancer: usize,
    request: &Request,
    retries: usize,
    tried: Tried,
    result: Result<Response, Status>,
) -> Result<Response, Status> {
    match result {
        Ok(response) => Ok(response),
        Err(status) => {
            may_retry(core, request, status, 1, retries)?;
            retry(core, snapshot, balancer, request, retries, tried, 1).await
        }
    }
}

/// Attempts after the first (`attempts` made so far, on the endpoints in `tried`), until one
/// succeeds or [`may_retry`] says stop.
async fn retry(
    core: &Core,
    snapshot: &Arc<Snapshot>,
    balancer: usize,
    request: &Request,
    retries: usize,
    mut tried: Tried,
    mut attempts: usize,
) -> Result<Response, Status> {
    loop {
        let status = match core.attempt(snapshot, balancer, request, &mut tried).await {
            Ok(response) => return Ok(response),
            Err(status) => status,
        };
        attempts += 1;
        may_retry(core, request, status, attempts, retries)?;
    }
}

/// After `attempts` attempts the last of which failed with `status`: whether another may be
/// made (and is counted against the budget), else the error for the caller.
fn may_retry(core: &Core, request: &Request, status: Status, attempts: usize, retries: usize) -> Result<(), Status> {
    if attempts > retries || !retriable(&status, request) {
        return Err(status);
    }
    if request.deadline().is_some_and(|d| d <= Instant::now()) {
        return Err(status);
    }
    if !core.budget.withdraw(clock::coarse()) {
        metrics::counter!("rpc_client_retry_budget_exhausted_total", "service" => request.service().to_string())
            .increment(1);
        let message = format!("{} (not retried: retry budget exhausted)", status.message());
        return Err(Status::new(status.code(), message));
    }
    // Labelled by service only: a caller's method names are many, its services few.
    metrics::counter!("rpc_client_retries_total", "service" => request.service().to_string()).increment(1);
    tracing::debug!(attempts, error = %status, "retrying on another endpoint");
    Ok(())
}

/// Whether another endpoint may be tried: always if the request never left this client;
/// for idempotent methods also after errors that say the endpoint, not the request, failed.
pub(super) fn retriable(status: &Status, request: &Request) -> bool {
    status.is_not_sent()
        || (request.idempotent
            && matches!(
                status.code(),
                Code::Unavailable | Code::ResourceExhausted | Code::Internal | Code::Unknown | Code::Aborted
            ))
}

#[cfg(test)]
mod tests {
    use super::retriable;
    use crate::{Request, Status};

    #[test]
    fn only_unsent_or_idempotent_calls_are_retried() {
        let mut request = Request::new("s", "m", bytes::Bytes::new());
        assert!(retriable(&Status::unavailable("refused").not_sent(), &request));
        assert!(!retriable(&Status::unavailable("lost after sending"), &request));
        request.idempotent = true;
        assert!(retriable(&Status::unavailable("lost after sending"), &request));
        assert!(!retriable(&Status::invalid_argument("bad"), &request), "the same request fails anywhere");
        assert!(!retriable(&Status::deadline_exceeded("late"), &request), "the deadline is shared");
    }
}
