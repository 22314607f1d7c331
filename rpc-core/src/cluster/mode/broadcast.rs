use futures_util::future::join_all;

use crate::cluster::core::Core;
use crate::{Request, Response, Status};

/// Every available endpoint at once; the first error if any failed, else the last reply.
pub(super) async fn run(core: &Core, request: &Request) -> Result<Response, Status> {
    let snapshot = core.directory.ready_snapshot(request.deadline()).await?;
    let reserved: Vec<_> =
        (0..snapshot.endpoints.len()).filter_map(|index| core.reserve_endpoint(&snapshot, index)).collect();
    if reserved.is_empty() {
        return Err(snapshot.none_available(request.service()));
    }
    let results = join_all(reserved.into_iter().map(|r| core.send(&snapshot, r, request))).await;
    let mut last = None;
    for result in results {
        last = Some(result?);
    }
    last.ok_or_else(|| snapshot.none_available(request.service()))
}
