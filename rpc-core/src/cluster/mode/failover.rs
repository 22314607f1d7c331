use std::time::Instant;

use crate::cluster::service::{Core, Tried};
use crate::{Code, Request, Response, Status};

/// One attempt, then up to `retries` more on other endpoints while the error allows it, the
/// deadline has time left and the retry budget pays.
pub(super) async fn run(core: &Core, balancer: usize, request: &Request, retries: usize) -> Result<Response, Status> {
    let snapshot = core.directory.ready_snapshot(request.deadline()).await?;
    // One clock read serves the budget and the first attempt's latency.
    let mut now = Instant::now();
    core.budget.deposit(now);
    let mut tried = Tried::new();
    let mut attempt = 0;
    loop {
        let status = match core.attempt(&snapshot, balancer, request, &mut tried, now).await {
            Ok(response) => return Ok(response),
            Err(status) => status,
        };
        attempt += 1;
        if attempt > retries || !retriable(&status, request) {
            return Err(status);
        }
        now = Instant::now();
        if request.deadline().is_some_and(|d| d <= now) {
            return Err(status);
        }
        if !core.budget.withdraw(now) {
            let message = format!("{} (not retried: retry budget exhausted)", status.message());
            return Err(Status::new(status.code(), message));
        }
        tracing::debug!(attempt, error = %status, "retrying on another endpoint");
    }
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
