use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use super::breaker::Permit;
use super::clock::Stamp;
use super::directory::Snapshot;
use crate::Status;

/// An endpoint picked for a call, with its breaker's leave.
pub(crate) struct Reserved {
    index: usize,
    permit: Permit,
}

impl Reserved {
    pub(crate) fn new(index: usize, permit: Permit) -> Reserved {
        Reserved { index, permit }
    }

    /// The endpoint's index in its snapshot.
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    /// The index and the leave, for the call that spends them ([`EndpointCall`]).
    pub(crate) fn into_parts(self) -> (usize, Permit) {
        (self.index, self.permit)
    }
}

pin_project! {
    /// One call on one endpoint: what every cluster mode and every stream sends through.
    ///
    /// While it runs, the call counts in the endpoint's in-flight load and holds its
    /// breaker's leave. When the reply is ready the latency feeds the load estimate and the
    /// outcome the breaker; a call dropped before that (its caller gave up, a faster fork
    /// won) leaves the load and gives a half-open breaker its probe back, which would
    /// otherwise wait for an outcome that never comes.
    ///
    /// A named future rather than an `async` block, so the failover fast path polls it in
    /// place: no box, no nested state to move.
    pub(crate) struct EndpointCall<F> {
        #[pin]
        reply: F,
        books: Books,
    }
}

/// The endpoint's books for one call: settled once, when the reply is ready, or on drop.
struct Books {
    snapshot: Arc<Snapshot>,
    index: usize,
    /// Taken when the outcome is recorded.
    permit: Option<Permit>,
    started: Stamp,
}

impl<F> EndpointCall<F> {
    /// Starts the call `reply` on the endpoint `reserved` names, begun at `started` (a
    /// stamp of the endpoint's clock: [`Load::now`](super::load::Load::now)).
    pub(crate) fn start(snapshot: Arc<Snapshot>, reserved: Reserved, started: Stamp, reply: F) -> EndpointCall<F> {
        let (index, permit) = reserved.into_parts();
        snapshot.endpoints[index].load.enter();
        EndpointCall { reply, books: Books { snapshot, index, permit: Some(permit), started } }
    }

    /// The endpoint's index in its snapshot.
    pub(crate) fn index(&self) -> usize {
        self.books.index
    }

    /// The snapshot the endpoint belongs to.
    pub(crate) fn snapshot(&self) -> &Arc<Snapshot> {
        &self.books.snapshot
    }

    /// The reply future, e.g. to take back a request it did not send.
    pub(crate) fn reply(self: Pin<&mut Self>) -> Pin<&mut F> {
        self.project().reply
    }
}

impl<F, T> Future for EndpointCall<F>
where
    F: Future<Output = Result<T, Status>>,
{
    type Output = Result<T, Status>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.reply.poll(cx));
        this.books.settle(result.as_ref().err().map(Status::code));
        Poll::Ready(result)
    }
}

impl Books {
    fn settle(&mut self, failure: Option<crate::Code>) {
        if let Some(permit) = self.permit.take() {
            let endpoint = &self.snapshot.endpoints[self.index];
            let (latency, now) = endpoint.load.replied(self.started);
            endpoint.load.leave();
            endpoint.breaker.record(permit, failure, latency, now);
        }
    }
}

impl Drop for Books {
    fn drop(&mut self) {
        if let Some(permit) = self.permit.take() {
            let endpoint = &self.snapshot.endpoints[self.index];
            endpoint.load.leave();
            endpoint.breaker.cancel(permit);
        }
    }
}
