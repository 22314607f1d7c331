use std::sync::Arc;
use std::task::{Context, Poll};

use tower::Service;

use super::future::{InFlight, MetricsFuture};
use super::series::SeriesCache;
use super::ErrorCode;
use crate::{Request, Response};

/// The service [`MetricsLayer`](super::MetricsLayer) makes.
#[derive(Clone)]
pub struct Metrics<S> {
    inner: S,
    series: Arc<SeriesCache>,
}

impl<S> Metrics<S> {
    pub(super) fn new(inner: S, series: Arc<SeriesCache>) -> Metrics<S> {
        Metrics { inner, series }
    }
}

impl<S> Service<Request> for Metrics<S>
where
    S: Service<Request, Response = Response>,
    S::Error: ErrorCode,
{
    type Response = Response;
    type Error = S::Error;
    type Future = MetricsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let in_flight = InFlight::start(self.series.of(&request));
        MetricsFuture::new(self.inner.call(request), in_flight)
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use tower::{Layer, Service};

    use crate::metrics::MetricsLayer;
    use crate::{Request, Response, Status};

    #[test]
    fn a_call_dropped_unfinished_counts_as_cancelled_and_leaves_the_flight() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            let never = tower::service_fn(|_: Request| std::future::pending::<Result<Response, Status>>());
            let mut service = MetricsLayer::client().layer(never);
            let call = service.call(Request::new("svc", "slow", Bytes::new()));
            let flying = handle.render();
            assert!(flying.contains(r#"rpc_client_requests_in_flight{service="svc",method="slow"} 1"#), "{flying}");
            drop(call);
        });
        let text = handle.render();
        assert!(text.contains(r#"rpc_client_requests_in_flight{service="svc",method="slow"} 0"#), "{text}");
        assert!(
            text.contains(r#"rpc_client_requests_total{service="svc",method="slow",code="CANCELLED"} 1"#),
            "{text}"
        );
    }
}
