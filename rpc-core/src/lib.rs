//! The runtime of `rpc`: statuses, request envelopes, the multiplexed TCP transport, the
//! server and the client channel. Users normally depend on the `rpc` facade crate instead.

#![warn(missing_docs)]

pub mod auth;
mod box_future;
mod call_options;
mod client;
pub mod cluster;
mod compression;
mod connection_info;
mod context;
mod descriptor;
#[doc(hidden)]
pub mod fuzz;
mod identity;
mod metadata_service;
pub mod metrics;
mod protocol;
mod protocol_name;
mod provider;
mod request;
mod response;
pub mod server;
mod status;
pub mod streaming;
pub mod tls;
#[cfg(feature = "opentelemetry")]
pub mod trace;
pub mod transport;

pub use box_future::BoxFuture;
pub use call_options::CallOptions;
pub use client::{Channel, ChannelBuilder, ChannelFuture, RegistryService};
pub use connection_info::ConnectionInfo;
pub use context::CallContext;
pub use descriptor::{MethodDescriptor, ServiceDescriptor};
pub use protocol_name::Protocol;
pub use provider::router::{CallFuture, CALL_FUTURE_INLINE};
pub use request::{ArgKeyFn, Request};
pub use response::Response;
pub use rpc_codec::{Attachments, SerializationId};
pub use server::{BoundServer, Router, RpcService, Server, ServerBuilder, ServerConfig};
pub use status::{Code, Status};
pub use streaming::{MessageStream, MethodKind, Streaming};

/// Re-exports for the `rpc` facade's generated-code support; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use tokio::net::ToSocketAddrs;
    pub use tower::{Service, ServiceExt};
}
