use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use pin_project_lite::pin_project;

use super::series::MethodSeries;
use super::ErrorCode;
use crate::{Code, Response};

pin_project! {
    /// The future [`Metrics`](super::Metrics) returns: the inner call's, recorded when it
    /// finishes (a call dropped unfinished counts as `CANCELLED`).
    pub struct MetricsFuture<F> {
        #[pin]
        inner: F,
        in_flight: Option<InFlight>,
    }
}

impl<F> MetricsFuture<F> {
    pub(super) fn new(inner: F, in_flight: InFlight) -> MetricsFuture<F> {
        MetricsFuture { inner, in_flight: Some(in_flight) }
    }
}

impl<F, E> Future for MetricsFuture<F>
where
    F: Future<Output = Result<Response, E>>,
    E: ErrorCode,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let outcome = ready!(this.inner.poll(cx));
        if let Some(mut in_flight) = this.in_flight.take() {
            in_flight.finish(super::of_outcome(&outcome));
        }
        Poll::Ready(outcome)
    }
}

/// A started call's series and start time; dropped unfinished, it records `CANCELLED`.
pub(super) struct InFlight {
    series: Arc<MethodSeries>,
    started: Instant,
    finished: bool,
}

impl InFlight {
    pub(super) fn start(series: Arc<MethodSeries>) -> InFlight {
        series.start();
        InFlight { series, started: Instant::now(), finished: false }
    }

    fn finish(&mut self, code: Code) {
        self.finished = true;
        self.series.finish(code, self.started.elapsed());
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if !self.finished {
            self.series.finish(Code::Cancelled, self.started.elapsed());
        }
    }
}
