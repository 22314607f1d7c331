use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;
use tracing::instrument::Instrumented;

use crate::metrics::ErrorCode;
use crate::{Code, Response};

pin_project! {
    /// The future [`Trace`](super::Trace) returns: the call, polled in its span, whose
    /// status it records when the call ends.
    pub struct TraceFuture<F> {
        #[pin]
        inner: Instrumented<F>,
        server: bool,
    }
}

impl<F> TraceFuture<F> {
    pub(super) fn new(inner: Instrumented<F>, server: bool) -> TraceFuture<F> {
        TraceFuture { inner, server }
    }
}

/// Whether a call that ended with `code` failed, as OpenTelemetry's RPC conventions have
/// it: on a server only the codes that say the server failed, on a client every one but OK.
fn is_error(code: Code, server: bool) -> bool {
    if !server {
        return code != Code::Ok;
    }
    matches!(
        code,
        Code::Unknown
            | Code::DeadlineExceeded
            | Code::Unimplemented
            | Code::Internal
            | Code::Unavailable
            | Code::DataLoss
    )
}

impl<F, E> Future for TraceFuture<F>
where
    F: Future<Output = Result<Response, E>>,
    E: ErrorCode,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let outcome = ready!(this.inner.as_mut().poll(cx));
        let span = this.inner.span();
        let code = crate::metrics::of_outcome(&outcome);
        span.record("rpc.grpc.status_code", code as i64);
        if is_error(code, *this.server) {
            span.record("otel.status_code", "error");
            span.record("otel.status_message", code.as_str());
        }
        Poll::Ready(outcome)
    }
}
