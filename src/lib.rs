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

/// Support for generated code; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use bytes::{Bytes, BytesMut};
    pub use rpc_codec::{__deserialize, __serialize};
    pub use rpc_core::__private::ToSocketAddrs;
    pub use rpc_core::__private::{Service, ServiceExt};
    pub use rpc_core::cluster::hash_key;

    use std::cell::Cell;
    use std::marker::PhantomData;

    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::{ServiceDescriptor, Status};
    use rpc_codec::SerializationError;

    /// Bytes of the per-thread block that bodies are serialized into and then split off.
    const BODY_BLOCK: usize = 16 * 1024;

    std::thread_local! {
        /// What is left of this thread's current body block.
        static BODY_ARENA: Cell<BytesMut> = Cell::new(BytesMut::with_capacity(BODY_BLOCK));
    }

    /// The size of the last body of one kind (one method's arguments or results), so the next
    /// buffer has room for it instead of regrowing while serde writes.
    ///
    /// Bodies are written into a per-thread block and split off it, so a block of 16 KiB
    /// serves many small bodies with one allocation, and the body is shared (reference
    /// counted) from the start: a copy kept for a retry is a counter increment, not the
    /// allocation `Bytes` makes to share a body built from its own `Vec`. A block is freed
    /// once the last body cut from it is dropped.
    pub struct SizeHint(AtomicUsize);

    impl SizeHint {
        #[allow(clippy::new_without_default)]
        pub const fn new() -> SizeHint {
            SizeHint(AtomicUsize::new(64))
        }

        /// An empty buffer with room for a body of the usual size; give it back with
        /// [`finish`](Self::finish).
        pub fn buffer(&self) -> BytesMut {
            let hint = self.0.load(Ordering::Relaxed);
            let mut buffer = BODY_ARENA.with(Cell::take);
            if buffer.capacity() < hint {
                // Reuses the block in place if no body cut from it is alive, else starts a
                // new one.
                buffer.reserve(hint.max(BODY_BLOCK));
            }
            buffer
        }

        /// The body written into `buffer`; the rest of the block stays for the next one.
        pub fn finish(&self, mut buffer: BytesMut) -> Bytes {
            self.observe(buffer.len());
            let body = buffer.split().freeze();
            BODY_ARENA.with(|arena| arena.set(buffer));
            body
        }

        /// Records a body's size; writes only on a real change, to keep the line shared.
        fn observe(&self, len: usize) {
            let hint = self.0.load(Ordering::Relaxed);
            if len > hint || len < hint / 2 {
                self.0.store(len.max(16), Ordering::Relaxed);
            }
        }
    }

    pub fn args_encode_error(service: &ServiceDescriptor, method: &str, error: SerializationError) -> Status {
        Status::invalid_argument(format!("arguments of {}/{method} not sent: {error}", service.name))
    }

    pub fn args_decode_error(service: &ServiceDescriptor, method: &str, error: SerializationError) -> Status {
        Status::invalid_argument(format!(
            "arguments of {}/{method} do not decode (wrong arity or types?): {error}",
            service.name
        ))
    }

    pub fn reply_encode_error(service: &ServiceDescriptor, method: &str, error: SerializationError) -> Status {
        Status::internal(format!("result of {}/{method} could not be encoded: {error}", service.name))
    }

    pub fn reply_decode_error(service: &ServiceDescriptor, method: &str, error: SerializationError) -> Status {
        Status::internal(format!("reply of {}/{method} does not decode: {error}", service.name))
    }

    /// `request` with generated argument hashing, for consistent-hash balancing.
    pub fn with_arg_key(mut request: crate::Request, key: rpc_core::ArgKeyFn) -> crate::Request {
        request.set_arg_key_fn(key);
        request
    }

    /// Autoref probe for a result type's default value: `(&DefaultProbe::<T>::new()).value_or(s)`
    /// is `Ok(T::default())` when `T: Default`, else `Err(s)`.
    pub struct DefaultProbe<T>(PhantomData<fn() -> T>);

    impl<T> DefaultProbe<T> {
        #[allow(clippy::new_without_default)]
        pub const fn new() -> Self {
            DefaultProbe(PhantomData)
        }
    }

    pub trait HasDefault<T> {
        fn value_or(&self, status: Status) -> Result<T, Status>;
    }

    impl<T: Default> HasDefault<T> for DefaultProbe<T> {
        fn value_or(&self, _: Status) -> Result<T, Status> {
            Ok(T::default())
        }
    }

    pub trait NoDefault<T> {
        fn value_or(&self, status: Status) -> Result<T, Status>;
    }

    impl<T> NoDefault<T> for &DefaultProbe<T> {
        fn value_or(&self, status: Status) -> Result<T, Status> {
            Err(Status::new(
                status.code(),
                format!(
                    "{} (ignored by the cluster, but {} has no default value)",
                    status.message(),
                    std::any::type_name::<T>()
                ),
            ))
        }
    }

    pub use futures_core::Stream;

    /// The one request message of a server-streaming call (or the one reply of a
    /// client-streaming call): the stream's first item; none is `InvalidArgument`.
    pub async fn first_message(
        mut messages: crate::MessageStream,
        service: &ServiceDescriptor,
        method: &str,
        what: &str,
    ) -> Result<bytes::Bytes, Status> {
        use futures_util::StreamExt;
        match messages.next().await {
            Some(message) => message,
            None => Err(Status::invalid_argument(format!(
                "{}/{method}: the {what} stream carried no message",
                service.name
            ))),
        }
    }

    /// A stream of exactly one message.
    pub fn single_message(message: bytes::Bytes) -> crate::MessageStream {
        Box::pin(futures_util::stream::once(std::future::ready(Ok(message))))
    }

    /// Serializes a caller's stream of values as it is polled.
    pub fn encode_stream<T, S, F>(values: S, encode: F) -> crate::MessageStream
    where
        S: Stream<Item = T> + Send + 'static,
        F: Fn(&T) -> Result<bytes::Bytes, Status> + Send + 'static,
    {
        use futures_util::StreamExt;
        Box::pin(values.map(move |value| encode(&value)))
    }

    pub fn streaming_only(service: &ServiceDescriptor, method: &str) -> Status {
        Status::unimplemented(format!(
            "{}/{method} is a streaming method: call it as a stream (over gRPC)",
            service.name
        ))
    }

    pub fn unknown_method(service: &ServiceDescriptor, method: &str) -> Status {
        let known: Vec<&str> = service.methods.iter().map(|m| m.name).collect();
        Status::unimplemented(format!("{} has no method {method:?} (it has: {})", service.name, known.join(", ")))
    }
}
