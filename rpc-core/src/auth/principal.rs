use std::sync::Arc;

use crate::Request;

/// Who an [`Authenticator`](super::Authenticator) says made a call: its subject and the
/// claims that came with it. A handler reads it from
/// [`CallContext::principal`](crate::CallContext::principal); a layer from
/// [`Principal::of`].
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// fn subject(request: &rpc::Request) -> Option<&str> {
///     rpc::auth::Principal::of(request).map(|p| p.subject.as_str())
/// }
/// # assert_eq!(subject(&rpc::Request::new("s", "m", bytes::Bytes::new())), None);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Principal {
    /// The subject (a JWT's `sub`).
    pub subject: String,
    /// Every claim, as JSON (a JWT's payload).
    pub claims: serde_json::Map<String, serde_json::Value>,
}

impl Principal {
    /// A principal with no claims beyond its subject.
    pub fn new(subject: impl Into<String>) -> Principal {
        Principal { subject: subject.into(), claims: serde_json::Map::new() }
    }

    /// A principal with its claims.
    pub fn with_claims(subject: impl Into<String>, claims: serde_json::Map<String, serde_json::Value>) -> Principal {
        Principal { subject: subject.into(), claims }
    }

    /// The principal an authenticator attached to `request`, if any.
    pub fn of(request: &Request) -> Option<&Arc<Principal>> {
        request.extensions().get::<Arc<Principal>>()
    }
}
