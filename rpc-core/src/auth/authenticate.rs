use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::{Either, ErrInto, Ready};
use futures_util::TryFutureExt;
use tower::{BoxError, Layer, Service};

use super::Principal;
use crate::{Request, Response, Status};

/// Tells who made a call from its credentials (a bearer token, a signature…).
///
/// `Ok(None)`: the request carries no credentials of this kind; `Err`: it carries some that
/// do not verify (answer `Unauthenticated`).
pub trait Authenticator: Send + Sync + 'static {
    /// The caller, from `request`'s attachments (gRPC metadata and HTTP headers arrive as
    /// attachments too).
    fn authenticate(&self, request: &Request) -> Result<Option<Principal>, Status>;
}

/// Authenticates every call with an [`Authenticator`] before it runs: the
/// [`Principal`] goes on the request for the layers and handler after it, and a call with
/// bad credentials (or, when they are required, none) is refused `Unauthenticated`, unrun.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// use rpc::auth::{AuthenticateLayer, JwtAuthenticator};
/// let jwt = JwtAuthenticator::hs256(b"a secret of at least 32 bytes....").issuer("https://issuer.example");
/// let server = rpc::Server::builder().layer(AuthenticateLayer::new(jwt));
/// # drop(server);
/// ```
#[derive(Clone)]
pub struct AuthenticateLayer {
    authenticator: Arc<dyn Authenticator>,
    required: bool,
}

impl AuthenticateLayer {
    /// Requires credentials that `authenticator` verifies on every call.
    pub fn new(authenticator: impl Authenticator) -> AuthenticateLayer {
        AuthenticateLayer { authenticator: Arc::new(authenticator), required: true }
    }

    /// Lets calls without credentials through, unauthenticated (an
    /// [`AuthorizeLayer`](super::AuthorizeLayer) may still admit them by their TLS
    /// identity); bad credentials are still refused.
    pub fn optional(mut self) -> AuthenticateLayer {
        self.required = false;
        self
    }
}

impl<S> Layer<S> for AuthenticateLayer {
    type Service = Authenticate<S>;

    fn layer(&self, inner: S) -> Authenticate<S> {
        Authenticate { inner, authenticator: self.authenticator.clone(), required: self.required }
    }
}

/// The service [`AuthenticateLayer`] makes.
#[derive(Clone)]
pub struct Authenticate<S> {
    inner: S,
    authenticator: Arc<dyn Authenticator>,
    required: bool,
}

impl<S> Service<Request> for Authenticate<S>
where
    S: Service<Request, Response = Response>,
    S::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = BoxError;
    type Future = Either<Ready<Result<Response, BoxError>>, ErrInto<S::Future, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let refused = |status: Status| Either::Left(futures_util::future::ready(Err(status.into())));
        match self.authenticator.authenticate(&request) {
            Ok(Some(principal)) => {
                tracing::debug!(subject = %principal.subject, "authenticated");
                request.extensions_mut().insert(Arc::new(principal));
            }
            Ok(None) if self.required => {
                return refused(Status::unauthenticated(format!(
                    "{}/{} needs credentials and the call has none; not run",
                    request.service(),
                    request.method()
                )))
            }
            Ok(None) => {}
            Err(status) => return refused(status),
        }
        Either::Right(self.inner.call(request).err_into())
    }
}
