//! The one wrapper every call runs in on a provider, whatever its protocol and kind.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures_util::future::Either;
use futures_util::FutureExt;
use tower::{BoxError, Service, ServiceExt};

use crate::{Request, Response, Status};

/// The service's answer to `request`, cancelled at its deadline, with panics caught: a
/// unary call's reply, or the start of a streaming call (its reply messages, which the
/// protocol then bounds by the same deadline). A request whose deadline has already passed
/// is not run at all, whichever protocol brought it (gRPC's `grpc-timeout: 0n` included):
/// a timer would only fire after the handler's first poll, which may be all it needs.
/// Built from combinators rather than an `async fn`, whose state would keep the request twice.
pub(crate) fn call<S>(service: S, request: Request) -> impl Future<Output = Result<Response, Status>> + Send
where
    S: Service<Request, Response = Response> + Send,
    S::Error: Into<BoxError>,
    S::Future: Send,
{
    let deadline = request.deadline();
    if deadline.is_some_and(|d| d <= Instant::now()) {
        let late = Status::deadline_exceeded("deadline passed before the call started; not run");
        return Either::Left(std::future::ready(Err(late)));
    }
    let call = AssertUnwindSafe(service.oneshot(request)).catch_unwind();
    let bounded = match deadline {
        Some(deadline) => Either::Left(tokio::time::timeout_at(deadline.into(), call)),
        None => Either::Right(call.map(Ok::<_, tokio::time::error::Elapsed>)),
    };
    Either::Right(bounded.map(|outcome| match outcome {
        Err(_) => Err(Status::deadline_exceeded("deadline passed while the call ran; it was cancelled")),
        Ok(Ok(Ok(response))) => Ok(response),
        Ok(Ok(Err(error))) => Err(Status::from_box_error(error.into())),
        Ok(Err(panic)) => {
            let message = panic_message(panic.as_ref());
            tracing::error!(panic = %message, "handler panicked");
            Err(Status::internal(format!("handler panicked: {message}")))
        }
    }))
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use bytes::Bytes;

    use super::*;
    use crate::Code;

    #[tokio::test]
    async fn a_request_whose_deadline_passed_is_not_run() {
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        let service = tower::service_fn(move |_: Request| {
            counted.fetch_add(1, Ordering::SeqCst);
            std::future::ready(Ok::<_, Status>(Response::new(Default::default(), Bytes::new())))
        });
        let mut expired = Request::new("svc", "m", Bytes::new());
        expired.set_deadline(Some(Instant::now()));
        let status = call(service.clone(), expired).await.unwrap_err();
        assert_eq!(status.code(), Code::DeadlineExceeded);
        assert!(status.message().contains("not run"), "{status:?}");
        assert_eq!(runs.load(Ordering::SeqCst), 0, "a handler that completes at once was not run either");
        let mut live = Request::new("svc", "m", Bytes::new());
        live.set_deadline(Some(Instant::now() + std::time::Duration::from_secs(60)));
        assert!(call(service, live).await.is_ok());
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }
}
