//! The one wrapper every call runs in on a provider, whatever its protocol and kind.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::future::Either;
use futures_util::FutureExt;
use tower::{BoxError, Service, ServiceExt};

use crate::{Request, Response, Status};

/// The service's answer to `request`, cancelled at its deadline, with panics caught: a
/// unary call's reply, or the start of a streaming call (its reply messages, which the
/// protocol then bounds by the same deadline).
/// Built from combinators rather than an `async fn`, whose state would keep the request twice.
pub(crate) fn call<S>(service: S, request: Request) -> impl Future<Output = Result<Response, Status>> + Send
where
    S: Service<Request, Response = Response> + Send,
    S::Error: Into<BoxError>,
    S::Future: Send,
{
    let deadline = request.deadline();
    let call = AssertUnwindSafe(service.oneshot(request)).catch_unwind();
    let bounded = match deadline {
        Some(deadline) => Either::Left(tokio::time::timeout_at(deadline.into(), call)),
        None => Either::Right(call.map(Ok::<_, tokio::time::error::Elapsed>)),
    };
    bounded.map(|outcome| match outcome {
        Err(_) => Err(Status::deadline_exceeded("deadline passed while the call ran; it was cancelled")),
        Ok(Ok(Ok(response))) => Ok(response),
        Ok(Ok(Err(error))) => Err(Status::from_box_error(error.into())),
        Ok(Err(panic)) => {
            let message = panic_message(panic.as_ref());
            tracing::error!(panic = %message, "handler panicked");
            Err(Status::internal(format!("handler panicked: {message}")))
        }
    })
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
