use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tracing::instrument::Instrumented;
use tracing::Instrument;

use super::core::{Core, Tried};
use super::directory::Directory;
use super::endpoint_call::EndpointCall;
use super::mode::failover::{self, FirstAttempt};
use super::mode::{self, FailbackQueue};
use crate::{BoxFuture, MessageStream, Request, Response, Status};

/// The cluster side of a [`Channel`](crate::Channel): runs each call under its method's
/// cluster mode over the directory's endpoints.
#[derive(Clone)]
pub(crate) struct ClusterClient {
    core: Arc<Core>,
    failback: Option<FailbackQueue>,
}

pin_project! {
    /// The future of a cluster call: failover's fast first attempt in place, or any mode's
    /// call on the general (boxed) path.
    #[project = ClusterFutureProj]
    pub(crate) enum ClusterFuture {
        Failover { #[pin] call: FirstAttempt },
        General { call: BoxFuture<Result<Response, Status>> },
    }
}

impl Future for ClusterFuture {
    type Output = Result<Response, Status>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            ClusterFutureProj::Failover { call } => call.poll(cx),
            ClusterFutureProj::General { call } => call.as_mut().poll(cx),
        }
    }
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

    /// Opens a streaming call on one endpoint the method's balancer picks, as one
    /// [`EndpointCall`] that ends when the stream has opened. No retries: the outbound
    /// stream is consumed as it is sent, so it cannot be replayed elsewhere.
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
                let endpoint = &snapshot.endpoints[reserved.index()];
                let started = endpoint.load.now();
                let (pool, connect_timeout) = (&endpoint.pool, core.settings.connect_timeout);
                let open = async move {
                    let connection = pool.connection(request.deadline(), connect_timeout).await?;
                    pool.stamp(&mut request);
                    connection.call_streaming(request, outbound).await
                };
                EndpointCall::start(snapshot.clone(), reserved, started, open).await
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
        let request = match failover::fast_path_retries(settings.cluster) {
            Some(retries) => match FirstAttempt::send(&self.core, settings.balancer, request, retries) {
                Ok(call) => return ClusterFuture::Failover { call }.instrument(span),
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
