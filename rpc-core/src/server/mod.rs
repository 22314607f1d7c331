//! The provider side: accept connections, decode requests, route them to services, reply.
//!
//! A request is first polled on its connection's task; if it completes at once (no await
//! that waits) it is answered without a task of its own, and otherwise it continues as its own
//! task — so a slow call never holds up the others on its connection, and the common fast
//! call costs no spawn. (A handler that computes for long without awaiting delays its
//! connection's next reads for that first poll; put such work on `spawn_blocking`.)
//! Server-side tower layers wrap the [`Router`]; see [`ServerBuilder::layer`].
//!
//! One port serves both the binary protocol and gRPC over HTTP/2: the first byte a client
//! sends tells them apart (see `accept`).

mod accept;
mod builder;
mod call_slot;
mod config;
mod connection;
pub(crate) mod dispatch;
mod registration;
pub(crate) mod router;
mod streams;

pub use builder::{BoundServer, Server, ServerBuilder};
pub use config::ServerConfig;
pub(crate) use connection::Lifecycle;
pub use router::{Router, RpcService};
