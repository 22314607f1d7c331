//! The provider side's public face: [`Server::builder`] collects services, layers and
//! settings, binds a port (or takes any stream of connections,
//! [`ServerBuilder::serve_with_incoming`]), registers in a registry and shuts down
//! gracefully.
//!
//! Each accepted connection is classified by its first bytes and served by its protocol's
//! module (`crate::protocol`); every call of every protocol, unary or streaming, goes
//! through the same tower stack — the [`Router`] wrapped in the layers given to
//! [`ServerBuilder::layer`] — inside one wrapper that enforces the deadline and turns a
//! panic into `Internal` (`crate::provider::call`).
//!
//! A request is first polled on its connection's task; if it completes at once (no await
//! that waits) it is answered without a task of its own, and otherwise it continues as its
//! own task — so a slow call never holds up the others on its connection, and the common
//! fast call costs no spawn. (A handler that computes for long without awaiting delays its
//! connection's next reads for that first poll; put such work on `spawn_blocking`.)

mod admin;
mod builder;
mod connection_limit;
mod health_service;
mod incoming;
mod listener;
mod metadata_service;
mod phase;
mod reflection;
mod register_mode;
mod registration;

pub use crate::protocol::Connected;
pub use crate::provider::{BinaryServerConfig, DubboServerConfig, GrpcServerConfig, Router, RpcService, ServerConfig};
pub use builder::{BoundServer, Server, ServerBuilder};
pub use incoming::TcpIncoming;
pub use register_mode::RegisterMode;
