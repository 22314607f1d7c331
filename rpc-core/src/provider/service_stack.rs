use tower::{BoxError, Service};

use crate::{Request, Response};

/// The provider's service stack as every protocol calls it: the router wrapped in the
/// server's layers, cloned per call, its errors turned into statuses. One name for the
/// bounds each protocol's serving code would otherwise spell out.
pub(crate) trait ServiceStack:
    Service<Request, Response = Response, Error: Into<BoxError>, Future: Send> + Clone + Send + 'static
{
}

impl<S> ServiceStack for S
where
    S: Service<Request, Response = Response> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send,
{
}
