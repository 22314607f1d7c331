use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use super::breaker::Permit;
use super::clock::Stamp;
use super::directory::Snapshot;
use super::mode::failover;
use super::service::{Core, Tried};
use crate::request::{Retained, Returned};
use crate::transport::ResponseFuture;
use crate::{BoxFuture, Request, Response, Status};

pin_project! {
    /// The future of a cluster call.
    ///
    /// A failover or failfast call whose endpoint set is known and whose picked endpoint has
    /// a connection up — nearly every call — is sent before this future exists, and its
    /// first attempt is polled here in place: no box, no nested async state to move. A
    /// failed first attempt that may be retried continues on the general (boxed, async)
    /// path, as do the other cluster modes and calls that would have to wait.
    #[project = ClusterFutureProj]
    pub(crate) enum ClusterFuture {
        First { #[pin] reply: ResponseFuture, attempt: Option<FirstAttempt> },
        General { call: BoxFuture<Result<Response, Status>> },
    }
}

/// What the first attempt keeps to settle its endpoint's books and, if it fails, to retry.
pub(crate) struct FirstAttempt {
    /// Also the way to the cluster, should a retry follow.
    snapshot: Arc<Snapshot>,
    index: usize,
    /// The breaker's leave; while held, the call also counts in the endpoint's in-flight
    /// load. Taken when the outcome is recorded.
    permit: Option<Permit>,
    started: Stamp,
    /// What a retry would be rebuilt from.
    kept: Kept,
    balancer: usize,
    retries: usize,
}

/// What a first attempt keeps of its request for a retry.
enum Kept {
    /// No retry may follow.
    Nothing,
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

impl ClusterFuture {
    /// Picks an endpoint and sends `request` on it. Polled in place when a connection is up;
    /// otherwise the general path waits for one. Gives the request back if no endpoint set is
    /// known yet or no endpoint is available, for the general path to handle from the start.
    #[allow(clippy::result_large_err)] // consumed at once by the caller
    pub(crate) fn send_first(
        core: &Arc<Core>,
        balancer: usize,
        request: Request,
        retries: usize,
    ) -> Result<ClusterFuture, Request> {
        let Some(snapshot) = core.directory.current() else { return Err(request) };
        let mut tried = Tried::new();
        let Ok(reserved) = core.reserve(&snapshot, balancer, &request, &mut tried) else {
            return Err(request);
        };
        let index = reserved.index();
        let endpoint = &snapshot.endpoints[index];
        // One clock read serves the attempt's latency and the retry budget's window.
        let started = endpoint.load.now();
        core.budget.deposit(started);
        let kept = if retries == 0 {
            Kept::Nothing
        } else if request.idempotent || !endpoint.pool.hands_back_unsent() {
            Kept::Copy(Box::new(request.clone_unary()))
        } else {
            Kept::Retained(request.retain())
        };
        let reply = match endpoint.pool.try_call(request) {
            Ok(reply) => reply,
            Err(request) => {
                // No connection up: the general path waits for one on the same endpoint.
                let core = core.clone();
                return Ok(ClusterFuture::General {
                    call: Box::pin(async move {
                        let first = core.send(&snapshot, reserved, &request).await;
                        failover::after_first(&core, &snapshot, balancer, &request, retries, tried, first).await
                    }),
                });
            }
        };
        endpoint.load.enter();
        let attempt =
            FirstAttempt { snapshot, index, permit: Some(reserved.into_permit()), started, kept, balancer, retries };
        Ok(ClusterFuture::First { reply, attempt: Some(attempt) })
    }
}

impl FirstAttempt {
    /// Settles the endpoint's load and breaker with the attempt's outcome.
    fn settle(&mut self, result: &Result<Response, Status>) {
        let endpoint = &self.snapshot.endpoints[self.index];
        if let Some(permit) = self.permit.take() {
            let (latency, now) = endpoint.load.replied(self.started);
            endpoint.load.leave();
            endpoint.breaker.record(permit, result.as_ref().err().map(Status::code), latency, now);
        }
    }

    /// The retries after a failed first attempt, or the caller's error if none may follow
    /// (also when every channel on the cluster is gone: nobody is left to retry for — a
    /// generated client holds its channel until the reply). `unsent`: the metadata and
    /// body the transport handed back with a not-sent error.
    fn retry(
        mut self,
        status: Status,
        unsent: Option<Returned>,
    ) -> Result<BoxFuture<Result<Response, Status>>, Status> {
        let request = match (std::mem::replace(&mut self.kept, Kept::Nothing), unsent) {
            (Kept::Copy(request), _) => *request,
            (Kept::Retained(retained), Some(returned)) => retained.rebuild(returned),
            (Kept::Retained(_), None) | (Kept::Nothing, _) => return Err(status),
        };
        let Some(core) = self.snapshot.cluster() else { return Err(status) };
        let mut tried = Tried::new();
        tried.push(self.index);
        let (snapshot, balancer, retries) = (self.snapshot.clone(), self.balancer, self.retries);
        Ok(Box::pin(async move {
            failover::after_first(&core, &snapshot, balancer, &request, retries, tried, Err(status)).await
        }))
    }
}

impl Drop for FirstAttempt {
    /// A call dropped before its reply leaves the endpoint's load and returns a half-open
    /// breaker's probe, which would otherwise wait for an outcome that never comes.
    fn drop(&mut self) {
        if let Some(permit) = self.permit.take() {
            let endpoint = &self.snapshot.endpoints[self.index];
            endpoint.load.leave();
            endpoint.breaker.cancel(permit);
        }
    }
}

impl Future for ClusterFuture {
    type Output = Result<Response, Status>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let retry = match self.as_mut().project() {
            ClusterFutureProj::General { call } => return call.as_mut().poll(cx),
            ClusterFutureProj::First { mut reply, attempt } => {
                let result = ready!(reply.as_mut().poll(cx));
                // Settled in place: moving the attempt out first showed in the profile.
                let Some(first) = attempt.as_mut() else {
                    return Poll::Ready(Err(Status::internal("cluster call polled after it finished")));
                };
                first.settle(&result);
                let status = match result {
                    Ok(response) => {
                        *attempt = None;
                        return Poll::Ready(Ok(response));
                    }
                    Err(status) => status,
                };
                let unsent = if status.is_not_sent() { reply.take_unsent() } else { None };
                let Some(first) = attempt.take() else { return Poll::Ready(Err(status)) };
                match first.retry(status, unsent) {
                    Ok(retry) => retry,
                    Err(status) => return Poll::Ready(Err(status)),
                }
            }
        };
        self.set(ClusterFuture::General { call: retry });
        self.poll(cx)
    }
}
