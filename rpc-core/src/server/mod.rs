//! The provider side: accept connections, decode requests, route them to services, reply.
//!
//! Each request runs in its own task, so a slow call never holds up the others on its
//! connection. Server-side tower layers wrap the [`Router`]; see [`ServerBuilder::layer`].

mod builder;
mod config;
mod connection;
mod dispatch;
pub(crate) mod router;

pub use builder::{BoundServer, Server, ServerBuilder};
pub use config::ServerConfig;
pub use router::{Router, RpcService};
