use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::{Either, ErrInto, Ready};
use futures_util::TryFutureExt;
use tower::{BoxError, Layer, Service};

use super::Principal;
use crate::{Request, Response, Status};

/// Who may call which service and method. A call is allowed when a rule matches its service
/// and method and names one of the caller's identities: its [`Principal`]'s subject (from an
/// authenticator before this layer) or a name in its verified TLS certificate (DNS, URI or
/// IP SAN, or the subject). With no rule at all, every call is allowed; with any, what no
/// rule allows is denied.
///
/// Patterns are exact, `*` for anything, or `prefix*`.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// use rpc::auth::{AuthorizeLayer, Rules};
/// let rules = Rules::new()
///     .allow("demo.Billing", "*", ["spiffe://example.org/ns/billing/*"])
///     .allow("demo.Greeter", "hello", ["*"])
///     .allow("*", "*", ["admin"]);
/// assert!(rules.permits("demo.Greeter", "hello", ["anyone"]));
/// assert!(!rules.permits("demo.Greeter", "reset", ["anyone"]));
/// let server = rpc::Server::builder().layer(AuthorizeLayer::new(rules));
/// # drop(server);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    service: Pattern,
    method: Pattern,
    identities: Vec<Pattern>,
}

#[derive(Debug, Clone)]
enum Pattern {
    Any,
    Prefix(String),
    Exact(String),
}

impl Pattern {
    fn new(text: &str) -> Pattern {
        match text {
            "*" => Pattern::Any,
            _ => match text.strip_suffix('*') {
                Some(prefix) => Pattern::Prefix(prefix.to_string()),
                None => Pattern::Exact(text.to_string()),
            },
        }
    }

    fn matches(&self, value: &str) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Prefix(prefix) => value.starts_with(prefix.as_str()),
            Pattern::Exact(exact) => value == exact,
        }
    }
}

impl Rules {
    /// No rules: everything is allowed until one is added.
    pub fn new() -> Rules {
        Rules::default()
    }

    /// Allows `identities` to call `method` of `service`.
    pub fn allow<I>(mut self, service: &str, method: &str, identities: I) -> Rules
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let identities = identities.into_iter().map(|id| Pattern::new(id.as_ref())).collect();
        self.rules.push(Rule { service: Pattern::new(service), method: Pattern::new(method), identities });
        self
    }

    /// Whether a caller known by `identities` may call `method` of `service`.
    pub fn permits<I>(&self, service: &str, method: &str, identities: I) -> bool
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        if self.rules.is_empty() {
            return true;
        }
        let identities: Vec<I::Item> = identities.into_iter().collect();
        self.rules
            .iter()
            .filter(|r| r.service.matches(service) && r.method.matches(method))
            .any(|rule| identities.iter().any(|id| rule.identities.iter().any(|pattern| pattern.matches(id.as_ref()))))
    }
}

/// Refuses, `PermissionDenied` and unrun, every call its [`Rules`] do not allow.
#[derive(Clone)]
pub struct AuthorizeLayer {
    rules: Arc<Rules>,
}

impl AuthorizeLayer {
    /// Enforces `rules`.
    pub fn new(rules: Rules) -> AuthorizeLayer {
        AuthorizeLayer { rules: Arc::new(rules) }
    }
}

impl<S> Layer<S> for AuthorizeLayer {
    type Service = Authorize<S>;

    fn layer(&self, inner: S) -> Authorize<S> {
        Authorize { inner, rules: self.rules.clone() }
    }
}

/// The service [`AuthorizeLayer`] makes.
#[derive(Clone)]
pub struct Authorize<S> {
    inner: S,
    rules: Arc<Rules>,
}

/// Every name the caller of `request` is known by.
fn identities(request: &Request) -> Vec<&str> {
    let subject = Principal::of(request).map(|p| p.subject.as_str()).filter(|s| !s.is_empty());
    let certificate = request.connection().and_then(|c| c.peer_identity.as_deref());
    subject.into_iter().chain(certificate.into_iter().flat_map(|id| id.names())).collect()
}

impl<S> Service<Request> for Authorize<S>
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

    fn call(&mut self, request: Request) -> Self::Future {
        let who = identities(&request);
        if self.rules.permits(request.service(), request.method(), &who) {
            return Either::Right(self.inner.call(request).err_into());
        }
        let who = if who.is_empty() { "an anonymous caller".to_string() } else { who.join(", ") };
        tracing::debug!(service = request.service(), method = request.method(), %who, "call not authorized");
        let denied = Status::permission_denied(format!(
            "{who} may not call {}/{}; not run",
            request.service(),
            request.method()
        ));
        Either::Left(futures_util::future::ready(Err(denied.into())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_allow_what_they_name_and_deny_the_rest() {
        let rules = Rules::new().allow("demo.Billing", "charge", ["spiffe://example.org/billing"]).allow(
            "demo.Greeter",
            "*",
            ["alice", "team-*"],
        );
        assert!(rules.permits("demo.Billing", "charge", ["spiffe://example.org/billing"]));
        assert!(!rules.permits("demo.Billing", "refund", ["spiffe://example.org/billing"]));
        assert!(!rules.permits("demo.Billing", "charge", ["alice"]));
        assert!(rules.permits("demo.Greeter", "anything", ["bob", "team-red"]));
        assert!(!rules.permits("demo.Greeter", "anything", Vec::<String>::new()));
        assert!(Rules::new().permits("any", "thing", Vec::<String>::new()), "no rules, no limits");
    }
}
