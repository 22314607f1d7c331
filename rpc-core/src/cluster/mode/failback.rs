use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tracing::Instrument;

use crate::cluster::core::{Core, Tried};
use crate::{Request, Response, Status};

/// Per-retry deadline of a call retried in the background.
const RETRY_TIMEOUT: Duration = Duration::from_secs(5);

/// The bounded queue of calls waiting to be retried in the background.
#[derive(Clone)]
pub(crate) struct FailbackQueue {
    sender: mpsc::Sender<Request>,
}

impl FailbackQueue {
    /// Queues `request` (which failed with `status`) for a retry; the caller gets the
    /// default value. With the queue full, the caller gets the error instead.
    pub(super) fn offer(&self, request: Request, status: Status) -> Result<Response, Status> {
        let method = request.method().to_string();
        match self.sender.try_send(request) {
            Ok(()) => {
                tracing::warn!(%method, error = %status, "failback: call failed; retrying in the background");
                Ok(Response::swallowed(status))
            }
            Err(_) => {
                let message = format!("{} (failback queue full; not retried)", status.message());
                Err(Status::new(status.code(), message))
            }
        }
    }
}

/// Starts the background retrier; it ends when the last queue handle is dropped.
pub(crate) fn spawn_failback(core: Arc<Core>, retries: usize, queue: usize, interval: Duration) -> FailbackQueue {
    let (sender, mut receiver) = mpsc::channel::<Request>(queue.max(1));
    let span = tracing::debug_span!("rpc.failback");
    tokio::spawn(
        async move {
            while let Some(request) = receiver.recv().await {
                retry(&core, request, retries, interval).await;
            }
        }
        .instrument(span),
    );
    FailbackQueue { sender }
}

async fn retry(core: &Core, request: Request, retries: usize, interval: Duration) {
    let balancer = core.settings.method(request.method()).balancer;
    for attempt in 1..=retries {
        tokio::time::sleep(interval).await;
        let mut retry = request.clone_unary();
        retry.set_deadline(None);
        let retry = retry.with_timeout(RETRY_TIMEOUT);
        let result = match core.directory.ready_snapshot(retry.deadline()).await {
            Ok(snapshot) => core.attempt(&snapshot, balancer, &retry, &mut Tried::new()).await,
            Err(status) => Err(status),
        };
        match result {
            Ok(_) => {
                tracing::info!(method = request.method(), attempt, "failback: retried call succeeded");
                return;
            }
            Err(status) => {
                tracing::debug!(method = request.method(), attempt, error = %status, "failback: retry failed")
            }
        }
    }
    tracing::warn!(method = request.method(), retries, "failback: giving up on a call");
}
