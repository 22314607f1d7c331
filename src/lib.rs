//! # rpc — a Dubbo-class RPC framework for Rust
//!
//! Define a service as a trait; [`#[rpc::service]`](macro@service) generates a typed client,
//! a server and a descriptor. Calls travel over a multiplexed binary protocol (many calls in
//! flight per connection, answered in any order) or gRPC over HTTP/2, with msgpack (the
//! default), JSON or protobuf chosen per call. A cluster [`Channel`] discovers providers in a
//! [registry], balances load over them, opens a circuit breaker per provider and
//! retries as its [`Cluster`](cluster::Cluster) mode says.
//!
//! ```toml
//! [dependencies]
//! rpc = { path = "../rpc" }   # this repository
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! serde = { version = "1", features = ["derive"] }   # for your own argument and result types
//! ```
//!
//! ## A provider and a consumer
//!
//! ```
//! use std::time::Duration;
//! use rpc::Status;
//!
//! #[rpc::service(name = "demo.Greeter", version = "1.0.0")]
//! pub trait Greeter {
//!     /// Says hello.
//!     async fn hello(&self, name: String) -> Result<String, Status>;
//!     #[rpc(idempotent)]
//!     async fn add(&self, a: i64, b: i64) -> Result<i64, Status>;
//! }
//!
//! struct MyGreeter;
//!
//! impl Greeter for MyGreeter {
//!     async fn hello(&self, name: String) -> Result<String, Status> {
//!         Ok(format!("Hello, {name}!"))
//!     }
//!     async fn add(&self, a: i64, b: i64) -> Result<i64, Status> {
//!         a.checked_add(b).ok_or_else(|| Status::out_of_range("overflow"))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Registries: file:// (the default: a directory shared by the processes of a host), etcd://,
//! // zookeeper://, memory:// (this process), static://host:port,…
//! let registry = rpc::registry::connect("memory://").await?;
//!
//! // Provider: registers once listening, deregisters first on shutdown.
//! let server = rpc::Server::builder()
//!     .registry(registry.clone())
//!     .add_service(GreeterServer::new(MyGreeter))
//!     .bind("127.0.0.1:0")
//!     .await?;
//! tokio::spawn(server.serve());
//!
//! // Consumer: a cluster channel over the providers the registry knows.
//! let channel = rpc::Channel::builder()
//!     .registry(registry, &GREETER_DESCRIPTOR)
//!     .timeout(Duration::from_secs(2))
//!     .build()?;
//! // The provider registers as it starts serving: wait until the channel has seen it.
//! channel.directory().expect("a cluster channel").wait_for(1, Duration::from_secs(5)).await;
//! let client = GreeterClient::new(channel);
//! assert_eq!(client.hello("world".into()).await?, "Hello, world!");
//! // Per-call options ride on a cheap clone of the client.
//! let json = client.with_options(rpc::CallOptions::new().serialization(rpc::SerializationId::Json));
//! assert_eq!(json.add(2, 3).await?, 5);
//! # Ok(()) }
//! ```
//!
//! ## Where things are
//!
//! | | |
//! |---|---|
//! | [`macro@service`] | the macro: what it generates, its attributes, argument and error types, streaming |
//! | [`Server`], [`ServerBuilder`] | hosting services: tower layers, registration, graceful shutdown |
//! | [`Channel`], [`ChannelBuilder`] | calling them: a direct connection, or a cluster channel |
//! | [`cluster`] | balancers ([`Balance`](cluster::Balance)), cluster modes, circuit breakers, per-method settings |
//! | [`registry`] | registries and [`connect`](registry::connect) by URL |
//! | [`CallOptions`], [`CallContext`] | per-call settings on the caller's side; what a handler knows of its call |
//! | [`Status`], [`Code`] | the error of every call |
//! | [`Streaming`] | typed streams of streaming methods |
//! | [`codec`] | the wire format and the serializations |
//!
//! ## Errors
//!
//! Every failure is a [`Status`]: a gRPC-numbered [`Code`] and a message for people. Unknown
//! service → `NotFound`, unknown method → `Unimplemented`, undecodable arguments →
//! `InvalidArgument`, a frame over the limit → `ResourceExhausted` (the connection is kept),
//! deadline passed → `DeadlineExceeded` (the provider does not start, or cancels, the call),
//! a handler panic → `Internal` (the server keeps serving), no usable connection or a provider
//! shutting down → `Unavailable`. [`Status::is_not_sent`] says the request never left, so
//! retrying it elsewhere cannot run it twice. Methods may return an error type of their own
//! that converts to and from `Status`: see [`macro@service`].
//!
//! ## Handlers and their calls
//!
//! A handler reads its caller's attachments and deadline through [`CallContext::current`]:
//!
//! ```
//! # async fn handler() {
//! if let Some(context) = rpc::CallContext::current() {
//!     let tenant = context.attachments.get("tenant");
//!     let time_left = context.remaining();
//! #   let _ = (tenant, time_left);
//! }
//! # }
//! ```
//!
//! ## Defaults
//!
//! Calls have **no deadline** unless the channel ([`ChannelBuilder::timeout`]) or the call
//! ([`CallOptions::timeout`]) sets one, as in gRPC; the reasons are on
//! [`ChannelBuilder::timeout`]. Every other default (heartbeats, frame limit, pool, breaker,
//! retries, registries) is listed in the project's `docs/CONFIGURATION.md`.
//!
//! ## Cargo features
//!
//! - `zookeeper` (default): the `zookeeper://` registry;
//! - `etcd`: the `etcd://` registry (its build compiles etcd's `.proto` files, so it needs
//!   `protoc` on the machine).
//!
//! `default-features = false` keeps the file, memory and static registries only, and builds
//! fastest.

#![warn(missing_docs)]

#[doc(inline)]
pub use rpc_core::{
    auth, metrics, server, tls, transport, Attachments, BoundServer, BoxFuture, CallContext, CallFuture, CallOptions,
    Channel, ChannelBuilder, Code, ConnectionInfo, MessageStream, MethodDescriptor, MethodKind, Protocol,
    RegistryService, Request, Response, Router, RpcService, SerializationId, Server, ServerBuilder, ServerConfig,
    ServiceDescriptor, Status, Streaming,
};

#[doc = include_str!("service.md")]
pub use rpc_macros::service;

#[doc(inline)]
pub use rpc_core::cluster;

#[cfg(feature = "opentelemetry")]
#[doc(inline)]
pub use rpc_core::trace;

/// The wire format: frames, the framing codec, metadata and the serializations (msgpack,
/// JSON, protobuf). Decoders are total: bad bytes give an error, never a panic.
pub mod codec {
    #[doc(inline)]
    pub use rpc_codec::*;
}

/// Service registries: providers register [`Instance`](registry::Instance)s, consumers follow
/// the live set. [`connect`](registry::connect) picks a backend by URL: `file://` (the
/// embedded default: a directory shared by the processes of a host, no server), `etcd://`,
/// `zookeeper://` (Apache Dubbo's node layout), `memory://`, `static://`.
pub mod registry {
    #[doc(inline)]
    pub use rpc_registry::*;
}

/// The usual imports: `use rpc::prelude::*;`.
pub mod prelude {
    pub use crate::{CallOptions, Channel, Code, SerializationId, Server, Status};
}

#[doc(hidden)]
#[path = "private/mod.rs"]
pub mod __private;
