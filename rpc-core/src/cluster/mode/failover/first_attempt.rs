//! Failover's fast path: the first attempt, sent before its future exists and polled in
//! place.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use super::after_first;
use crate::cluster::core::{Core, Tried};
use crate::cluster::directory::Snapshot;
use crate::cluster::endpoint_call::EndpointCall;
use crate::request::{Retained, Returned};
use crate::transport::ResponseFuture;
use crate::{BoxFuture, Request, Response, Status};

pin_project! {
    /// A failover (or failfast) call whose endpoint set is known and whose picked endpoint
    /// has a connection up — nearly every call. Its first attempt is an [`EndpointCall`]
    /// polled here in place: no box, no nested async state to move. A failed first attempt
    /// that may be retried continues as the (boxed, async) retries of [`after_first`].
    #[project = FirstAttemptProj]
    pub(crate) enum FirstAttempt {
        Sent { #[pin] call: EndpointCall<ResponseFuture>, retry: Option<RetryPlan> },
        Retrying { call: BoxFuture<Result<Response, Status>> },
    }
}

/// What a first attempt keeps in case a retry follows.
pub(crate) struct RetryPlan {
    kept: Kept,
    balancer: usize,
    retries: usize,
}

/// What a first attempt keeps of its request for a retry.
enum Kept {
    /// A whole copy: the method is idempotent (a retry may follow errors raised after the
    /// request left), or the transport does not hand back what it did not send. Boxed: it is
    /// rarely used, and inline it more than doubled the size of every channel future, which
    /// callers move.
    Copy(Box<Request>),
    /// All but the metadata and body: only a not-sent error allows a retry, and the binary
    /// transport hands those two back with one. A few words instead of a copy of every
    /// metadata string and an allocation (~470 instructions a call under callgrind), or a
    /// body reference (an atomic count raised and dropped).
    Retained(Retained),
}

impl FirstAttempt {
    /// Picks an endpoint and sends `request` on it. Polled in place when a connection is up;
    /// otherwise the retries' path waits for one. Gives the request back if no endpoint set
    /// is known yet or no endpoint is available, for the general path to handle from the
    /// start.
    #[allow(clippy::result_large_err)] // consumed at once by the caller
    pub(crate) fn send(core: &Arc<Core>, balancer: usize, request: Request, retries: usize) -> Result<Self, Request> {
        let Some(snapshot) = core.directory.current() else { return Err(request) };
        let mut tried = Tried::new();
        let Ok(reserved) = core.reserve(&snapshot, balancer, &request, &mut tried) else {
            return Err(request);
        };
        let endpoint = &snapshot.endpoints[reserved.index()];
        // One clock read serves the attempt's latency and the retry budget's window.
        let started = endpoint.load.now();
        core.budget.deposit(started);
        let kept = if retries == 0 {
            None
        } else if request.idempotent || !endpoint.pool.hands_back_unsent() {
            Some(Kept::Copy(Box::new(request.clone_unary())))
        } else {
            Some(Kept::Retained(request.retain()))
        };
        let reply = match endpoint.pool.try_call(request) {
            Ok(reply) => reply,
            Err(request) => {
                // No connection up: the general path waits for one on the same endpoint.
                let core = core.clone();
                return Ok(FirstAttempt::Retrying {
                    call: Box::pin(async move {
                        let first = core.send(&snapshot, reserved, &request).await;
                        after_first(&core, &snapshot, balancer, &request, retries, tried, first).await
                    }),
                });
            }
        };
        let retry = kept.map(|kept| RetryPlan { kept, balancer, retries });
        Ok(FirstAttempt::Sent { call: EndpointCall::start(snapshot, reserved, started, reply), retry })
    }
}

impl RetryPlan {
    /// The retries after a first attempt on endpoint `index` of `snapshot` failed with
    /// `status`, or the caller's error if none may follow (also when every channel on the
    /// cluster is gone: nobody is left to retry for — a generated client holds its channel
    /// until the reply). `unsent`: the metadata and body the transport handed back with a
    /// not-sent error.
    fn retry(
        self,
        snapshot: &Arc<Snapshot>,
        index: usize,
        status: Status,
        unsent: Option<Returned>,
    ) -> Result<BoxFuture<Result<Response, Status>>, Status> {
        let request = match (self.kept, unsent) {
            (Kept::Copy(request), _) => *request,
            (Kept::Retained(retained), Some(returned)) => retained.rebuild(returned),
            (Kept::Retained(_), None) => return Err(status),
        };
        let Some(core) = snapshot.cluster() else { return Err(status) };
        let mut tried = Tried::new();
        tried.push(index);
        let (snapshot, balancer, retries) = (snapshot.clone(), self.balancer, self.retries);
        Ok(Box::pin(
            async move { after_first(&core, &snapshot, balancer, &request, retries, tried, Err(status)).await },
        ))
    }
}

impl Future for FirstAttempt {
    type Output = Result<Response, Status>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let retries = match self.as_mut().project() {
            FirstAttemptProj::Retrying { call } => return call.as_mut().poll(cx),
            FirstAttemptProj::Sent { mut call, retry } => {
                let status = match ready!(call.as_mut().poll(cx)) {
                    Ok(response) => return Poll::Ready(Ok(response)),
                    Err(status) => status,
                };
                let Some(plan) = retry.take() else { return Poll::Ready(Err(status)) };
                let unsent = if status.is_not_sent() { call.as_mut().reply().take_unsent() } else { None };
                match plan.retry(call.snapshot(), call.index(), status, unsent) {
                    Ok(retries) => retries,
                    Err(status) => return Poll::Ready(Err(status)),
                }
            }
        };
        self.set(FirstAttempt::Retrying { call: retries });
        self.poll(cx)
    }
}
