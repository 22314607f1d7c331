use std::sync::Arc;

use smallvec::SmallVec;

use super::directory::{Directory, DirectorySettings, Snapshot};
use super::endpoint_call::{EndpointCall, Reserved};
use super::retry_budget::Budget;
use super::settings::ClusterSettings;
use super::Discover;
use crate::{Request, Response, Status};

/// What every cluster mode works with: the directory, the settings and the retry budget;
/// and the two steps of every attempt, [`reserve`](Core::reserve) (pick an endpoint and
/// take its breaker's leave) and [`send`](Core::send).
pub(crate) struct Core {
    pub(crate) directory: Arc<Directory>,
    pub(crate) settings: ClusterSettings,
    pub(crate) budget: Budget,
}

/// Endpoints a call has tried (indices into its snapshot); inline, as a call tries few.
pub(crate) type Tried = SmallVec<[usize; 4]>;

impl Core {
    /// A cluster following `discover`. The directory's snapshots point back at the cluster
    /// (weakly), so a failed fast first attempt finds its way to the retries without the
    /// call future holding a second reference (see `Snapshot::cluster`).
    pub(crate) fn start(
        discover: Discover,
        directory: DirectorySettings,
        settings: ClusterSettings,
        budget: Budget,
    ) -> Arc<Core> {
        Arc::new_cyclic(|cluster| Core {
            directory: Directory::start(discover, directory, cluster.clone()),
            settings,
            budget,
        })
    }

    /// Picks an endpoint (skipping `tried`, which it extends) and takes its breaker's leave.
    pub(crate) fn reserve(
        &self,
        snapshot: &Snapshot,
        balancer: usize,
        request: &Request,
        tried: &mut Tried,
    ) -> Result<Reserved, Status> {
        // Bounded: a breaker may refuse after the balancer saw it available (its probes
        // were taken meanwhile); then the next pick avoids it.
        for _ in 0..=snapshot.endpoints.len() {
            let Some(index) = snapshot.pick(balancer, request, tried) else { break };
            if !tried.contains(&index) {
                tried.push(index);
            }
            // The pick checked the pool is usable; only the breaker's leave is left to take.
            if let Some(permit) = snapshot.endpoints[index].breaker.try_acquire() {
                return Ok(Reserved::new(index, permit));
            }
        }
        Err(snapshot.none_available(request.service()))
    }

    /// Takes endpoint `index`'s breaker leave, if it gives it and the endpoint is usable.
    pub(crate) fn reserve_endpoint(&self, snapshot: &Snapshot, index: usize) -> Option<Reserved> {
        let endpoint = snapshot.endpoints.get(index)?;
        if !endpoint.pool.is_usable() {
            return None;
        }
        endpoint.breaker.try_acquire().map(|permit| Reserved::new(index, permit))
    }

    /// Sends a copy of `request` to a reserved endpoint (waiting for a connection if none is
    /// up), as one [`EndpointCall`].
    pub(crate) async fn send(
        &self,
        snapshot: &Arc<Snapshot>,
        reserved: Reserved,
        request: &Request,
    ) -> Result<Response, Status> {
        let endpoint = &snapshot.endpoints[reserved.index()];
        let started = endpoint.load.now();
        let (pool, connect_timeout, request) = (&endpoint.pool, self.settings.connect_timeout, request.clone_unary());
        let reply = async move {
            match pool.try_call(request) {
                Ok(reply) => reply.await,
                Err(request) => pool.call_when_connected(request, connect_timeout).await?.await,
            }
        };
        EndpointCall::start(snapshot.clone(), reserved, started, reply).await
    }

    /// One pick and one send.
    pub(crate) async fn attempt(
        &self,
        snapshot: &Arc<Snapshot>,
        balancer: usize,
        request: &Request,
        tried: &mut Tried,
    ) -> Result<Response, Status> {
        let reserved = self.reserve(snapshot, balancer, request, tried)?;
        self.send(snapshot, reserved, request).await
    }
}
