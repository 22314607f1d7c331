//! # rpc — a Dubbo-class RPC framework for Rust
//!
//! Define a service as a trait; `#[rpc::service]` generates a typed client, a server
//! dispatcher and a descriptor. Calls travel over a multiplexed binary protocol with
//! pluggable serialization (msgpack by default, JSON, protobuf).
//!
//! ```
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
//! let server = rpc::Server::builder().add_service(GreeterServer::new(MyGreeter)).bind("127.0.0.1:0").await?;
//! let addr = server.local_addr()?;
//! tokio::spawn(server.serve());
//!
//! let client = GreeterClient::connect(addr).await?;
//! assert_eq!(client.hello("world".into()).await?, "Hello, world!");
//! assert_eq!(client.add(2, 3).await?, 5);
//! assert!(GREETER_DESCRIPTOR.method("add").unwrap().idempotent);
//! # Ok(()) }
//! ```
//!
//! ## The generated items
//!
//! For `trait Greeter` the macro emits:
//! - `trait Greeter: Send + Sync + 'static`, each `async fn` returning a `Send` future —
//!   implement it with plain `async fn`s;
//! - `GreeterClient<S = rpc::Channel>`: `connect(addr)`, `new(channel)`, one `async fn` per
//!   method, and `with_options(CallOptions)` for per-call timeout, serialization, attachments;
//! - `GreeterServer<T>`: an [`RpcService`] to pass to [`ServerBuilder::add_service`];
//! - `GREETER_DESCRIPTOR`: a [`ServiceDescriptor`] (name, version, methods, idempotency).
//!
//! Method attributes: `#[rpc(idempotent)]` (safe to retry elsewhere), `#[rpc(oneway)]` (no
//! reply; returns `Result<(), E>`), `#[rpc(name = "Wire")]` (name on the wire). Arguments
//! and results are any serde types for msgpack/JSON, and `prost::Message`s for protobuf.
//! Errors are [`Status`] or a type `E: Into<Status> + From<Status>`. Service options:
//! `name`, `version`, and `serialization = "protobuf"` (the client's default; msgpack otherwise).
//!
//! ## Streaming methods
//!
//! A [`Streaming<T>`] argument makes the caller stream (it must be the only argument), a
//! `Streaming<T>` result makes the provider stream; both make a bidirectional method. The
//! generated client takes any `Stream<Item = T>` for a streaming argument and returns a
//! `Streaming<T>` of results. Streams run over either protocol with flow control (a slow
//! reader stops the sender) and cancellation (dropping a stream stops the other side); over
//! gRPC they are ordinary gRPC streams. Server layers (`ServerBuilder::layer`) apply to unary
//! calls only.
//!
//! ```
//! use futures_util::StreamExt;
//! use rpc::{Status, Streaming};
//!
//! #[rpc::service(name = "demo.Numbers")]
//! pub trait Numbers {
//!     async fn count(&self, upto: u32) -> Result<Streaming<u32>, Status>;
//!     async fn sum(&self, numbers: Streaming<u32>) -> Result<u64, Status>;
//! }
//!
//! struct MyNumbers;
//!
//! impl Numbers for MyNumbers {
//!     async fn count(&self, upto: u32) -> Result<Streaming<u32>, Status> {
//!         Ok(Streaming::iter(0..upto))
//!     }
//!     async fn sum(&self, mut numbers: Streaming<u32>) -> Result<u64, Status> {
//!         let mut sum = 0;
//!         while let Some(n) = numbers.next().await {
//!             sum += u64::from(n?);
//!         }
//!         Ok(sum)
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = rpc::Server::builder().add_service(NumbersServer::new(MyNumbers)).bind("127.0.0.1:0").await?;
//! let addr = server.local_addr()?;
//! tokio::spawn(server.serve());
//!
//! let client = NumbersClient::connect(addr).await?;
//! let counted: Vec<u32> = client.count(4).await?.map(|n| n.unwrap()).collect().await;
//! assert_eq!(counted, [0, 1, 2, 3]);
//! assert_eq!(client.sum(futures_util::stream::iter(1..=10)).await?, 55);
//! # Ok(()) }
//! ```

pub use rpc_core::{
    server, transport, Attachments, BoundServer, BoxFuture, CallContext, CallFuture, CallOptions, Channel,
    ChannelBuilder, Code, MessageStream, MethodDescriptor, MethodKind, Protocol, Request, Response, Router, RpcService,
    SerializationId, Server, ServerBuilder, ServerConfig, ServiceDescriptor, Status, Streaming, StreamingService,
};
pub use rpc_macros::service;

/// The wire format: frames, framing codec and serializations.
pub use rpc_codec as codec;
/// The cluster client: load balancers, circuit breakers, cluster modes, discovery.
pub use rpc_core::cluster;
/// Service registries.
pub use rpc_registry as registry;

/// The usual imports: `use rpc::prelude::*;`.
pub mod prelude {
    pub use crate::{CallOptions, Channel, Code, SerializationId, Server, Status};
}

#[doc(hidden)]
#[path = "private/mod.rs"]
pub mod __private;
