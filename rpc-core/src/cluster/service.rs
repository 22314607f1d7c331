use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use smallvec::SmallVec;
use tracing::instrument::Instrumented;
use tracing::Instrument;

use super::breaker::Permit;
use super::call_future::ClusterFuture;
use super::directory::{Directory, Snapshot};
use super::mode::{self, Budget, Cluster, FailbackQueue};
use crate::{BoxFuture, MessageStream, Request, Response, Status};

/// What a call to one method uses: its cluster mode, balancer (an index into the directory's
/// balancers), default timeout and idempotency override.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MethodSettings {
    pub(crate) cluster: Cluster,
    pub(crate) balancer: usize,
    pub(crate) timeout: Option<Duration>,
    pub(crate) idempotent: Option<bool>,
}

/// A cluster channel's settings: the channel-wide ones and per-method overrides.
#[derive(Debug)]
pub(crate) struct ClusterSettings {
    pub(crate) default: MethodSettings,
    pub(crate) methods: HashMap<String, MethodSettings>,
    pub(crate) connect_timeout: Duration,
}

impl ClusterSettings {
    pub(crate) fn method(&self, method: &str) -> MethodSettings {
        if self.methods.is_empty() {
            return self.default;
        }
        self.methods.get(method).copied().unwrap_or(self.default)
    }
}

/// What every cluster mode works with: the directory, the settings and the retry budget.
pub(crate) struct Core {
    pub(crate) directory: Arc<Directory>,
    pub(crate) settings: ClusterSettings,
    pub(crate) budget: Budget,
}

/// Endpoints a call has tried (indices into its snapshot); inline, as a call tries few.
pub(crate) type Tried = SmallVec<[usize; 4]>;

/// An endpoint picked for a call, with its breaker's leave.
pub(crate) struct Reserved {
    index: usize,
    permit: Permit,
}

impl Reserved {
    /// The endpoint's index in its snapshot.
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    /// Gives up the reservation, for a caller that sends through its own future.
    pub(crate) fn into_permit(self) -> Permit {
        self.permit
    }
}

impl Core {
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
                return Ok(Reserved { index, permit });
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
        endpoint.breaker.try_acquire().map(|permit| Reserved { index, permit })
    }

    /// Sends `request` to a reserved endpoint, tracking its load and feeding its breaker.
    pub(crate) async fn send(
        &self,
        snapshot: &Snapshot,
        reserved: Reserved,
        request: &Request,
    ) -> Result<Response, Status> {
        let endpoint = &snapshot.endpoints[reserved.index];
        let mut probe = ProbeGuard { snapshot, index: reserved.index, permit: Some(reserved.permit) };
        let in_flight = endpoint.load.start();
        let reply = match endpoint.pool.try_call(request.clone_unary()) {
            Ok(reply) => Ok(reply),
            Err(request) => endpoint.pool.call_when_connected(request, self.settings.connect_timeout).await,
        };
        let result = match reply {
            Ok(reply) => reply.await,
            Err(status) => Err(status),
        };
        let (latency, now) = in_flight.finish();
        if let Some(permit) = probe.permit.take() {
            endpoint.breaker.record(permit, result.as_ref().err().map(Status::code), latency, now);
        }
        result
    }

    /// One pick and one send.
    pub(crate) async fn attempt(
        &self,
        snapshot: &Snapshot,
        balancer: usize,
        request: &Request,
        tried: &mut Tried,
    ) -> Result<Response, Status> {
        let reserved = self.reserve(snapshot, balancer, request, tried)?;
        self.send(snapshot, reserved, request).await
    }
}

/// Gives a half-open breaker its probe back if the call is cancelled before its outcome is
/// recorded; otherwise the breaker would wait for a probe that never reports.
struct ProbeGuard<'a> {
    snapshot: &'a Snapshot,
    index: usize,
    permit: Option<Permit>,
}

impl Drop for ProbeGuard<'_> {
    fn drop(&mut self) {
        if let Some(permit) = self.permit.take() {
            self.snapshot.endpoints[self.index].breaker.cancel(permit);
        }
    }
}

/// The cluster side of a [`Channel`](crate::Channel): runs each call under its method's
/// cluster mode over the directory's endpoints.
#[derive(Clone)]
pub(crate) struct ClusterClient {
    core: Arc<Core>,
    failback: Option<FailbackQueue>,
}

impl ClusterClient {
    pub(crate) fn new(core: Arc<Core>, failback: Option<(usize, usize, Duration)>) -> ClusterClient {
        let failback =
            failback.map(|(retries, queue, interval)| mode::spawn_failback(core.clone(), retries, queue, interval));
        ClusterClient { core, failback }
    }

    pub(crate) fn directory(&self) -> &Arc<Directory> {
        &self.core.directory
    }

    /// Opens a streaming call on one endpoint the method's balancer picks. No retries: the
    /// outbound stream is consumed as it is sent, so it cannot be replayed elsewhere. The
    /// endpoint's breaker hears whether the stream opened.
    pub(crate) fn call_streaming(
        &self,
        mut request: Request,
        outbound: MessageStream,
        default_timeout: Option<Duration>,
    ) -> BoxFuture<Result<MessageStream, Status>> {
        let settings = self.core.settings.method(request.method());
        request.set_default_timeout(settings.timeout.or(default_timeout));
        let span = tracing::debug_span!("rpc.stream", service = request.service(), method = request.method());
        let core = self.core.clone();
        Box::pin(
            async move {
                let snapshot = core.directory.ready_snapshot(request.deadline()).await?;
                let reserved = core.reserve(&snapshot, settings.balancer, &request, &mut Tried::new())?;
                let endpoint = &snapshot.endpoints[reserved.index];
                let mut probe =
                    ProbeGuard { snapshot: &snapshot, index: reserved.index, permit: Some(reserved.permit) };
                let in_flight = endpoint.load.start();
                let opened = match endpoint.pool.connection(request.deadline(), core.settings.connect_timeout).await {
                    Ok(connection) => connection.call_streaming(request, outbound).await,
                    Err(status) => Err(status),
                };
                let (latency, now) = in_flight.finish();
                if let Some(permit) = probe.permit.take() {
                    endpoint.breaker.record(permit, opened.as_ref().err().map(Status::code), latency, now);
                }
                opened
            }
            .instrument(span),
        )
    }

    pub(crate) fn call(&self, mut request: Request, default_timeout: Option<Duration>) -> Instrumented<ClusterFuture> {
        let settings = self.core.settings.method(request.method());
        request.set_default_timeout(settings.timeout.or(default_timeout));
        if let Some(idempotent) = settings.idempotent {
            request.idempotent = idempotent;
        }
        let span = tracing::debug_span!("rpc.call", service = request.service(), method = request.method(), cluster = ?settings.cluster);
        let retries = match settings.cluster {
            Cluster::Failover { retries } => Some(retries),
            Cluster::Failfast => Some(0),
            _ => None,
        };
        let request = match retries {
            Some(retries) => match ClusterFuture::send_first(&self.core, settings.balancer, request, retries) {
                Ok(call) => return call.instrument(span),
                Err(request) => request,
            },
            None => request,
        };
        let this = self.clone();
        ClusterFuture::General {
            call: Box::pin(async move {
                mode::run(&this.core, this.failback.as_ref(), settings.cluster, settings.balancer, request).await
            }),
        }
        .instrument(span)
    }
}
