//! Who may call what, on the provider: Dubbo's token ([`ServerBuilder::token`]), an
//! [`AuthenticateLayer`] that tells the caller from its credentials (a JWT bearer token with
//! [`JwtAuthenticator`], or an [`Authenticator`] of your own), and an [`AuthorizeLayer`]
//! that allows each service and method to the identities its [`Rules`] name — a JWT's
//! subject or a name in the caller's TLS certificate. Every refusal is answered before the
//! handler runs.
//!
//! The last layer added to a server sees a call first, so add the authorizer before the
//! authenticator:
//!
//! ```
//! # mod rpc { pub use rpc_core::*; }
//! use rpc::auth::{AuthenticateLayer, AuthorizeLayer, JwtAuthenticator, Rules};
//! let rules = Rules::new().allow("demo.Greeter", "*", ["alice"]);
//! let server = rpc::Server::builder()
//!     .layer(AuthorizeLayer::new(rules))
//!     .layer(AuthenticateLayer::new(JwtAuthenticator::hs256(b"a secret of at least 32 bytes....")));
//! # drop(server);
//! ```
//!
//! [`ServerBuilder::token`]: crate::ServerBuilder::token

mod authenticate;
mod authorize;
mod jwt;
mod principal;
mod token;

pub use authenticate::{Authenticate, AuthenticateLayer, Authenticator};
pub use authorize::{Authorize, AuthorizeLayer, Rules};
pub use jwt::JwtAuthenticator;
pub use principal::Principal;
pub use token::TOKEN_ATTACHMENT;
pub(crate) use token::{check as check_token, resolve as resolve_token};
