use futures_util::stream::{FuturesUnordered, StreamExt};

use crate::cluster::core::{Core, Tried};
use crate::{Request, Response, Status};

/// Up to `parallel` endpoints at once; the first success wins and the others are cancelled.
pub(super) async fn run(core: &Core, balancer: usize, request: &Request, parallel: usize) -> Result<Response, Status> {
    let snapshot = core.directory.ready_snapshot(request.deadline()).await?;
    let mut tried = Tried::new();
    let mut calls = FuturesUnordered::new();
    let mut last_error = None;
    for _ in 0..parallel.min(snapshot.endpoints.len().max(1)) {
        match core.reserve(&snapshot, balancer, request, &mut tried) {
            Ok(reserved) => calls.push(core.send(&snapshot, reserved, request)),
            Err(status) => {
                last_error = Some(status);
                break;
            }
        }
    }
    while let Some(result) = calls.next().await {
        match result {
            Ok(response) => return Ok(response),
            Err(status) => last_error = Some(status),
        }
    }
    Err(last_error.unwrap_or_else(|| snapshot.none_available(request.service())))
}
