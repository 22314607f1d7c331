use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, ToSocketAddrs};
use tower::layer::util::{Identity, Stack};
use tower::{BoxError, Layer, Service};

use super::admin::{self, AdminConfig};
use super::health_service::{HealthService, HEALTH_SERVICE};
use super::incoming::TcpIncoming;
use super::listener::Listener;
use super::metadata_service::MetadataService;
use super::phase::Phase;
use super::reflection::{Descriptors, ReflectionService};
use super::registration::Registration;
use super::{Connected, RegisterMode, Router, RpcService, ServerConfig};
use crate::protocol::Unaddressed;
use crate::{Request, Response};
use rpc_registry::{MetadataStorage, Registry};

/// Entry point of the provider side.
///
/// ```no_run
/// # mod rpc { pub use rpc_core::*; }
/// # async fn run(greeter: impl rpc::RpcService) -> std::io::Result<()> {
/// use std::time::Duration;
/// rpc::Server::builder()
///     .layer(tower::timeout::TimeoutLayer::new(Duration::from_secs(5)))
///     .add_service(greeter)
///     .serve("127.0.0.1:0")
///     .await
/// # }
/// ```
pub struct Server;

impl Server {
    /// A builder with no services and default settings.
    pub fn builder() -> ServerBuilder<Identity> {
        ServerBuilder {
            router: Router::default(),
            layer: Identity::new(),
            config: ServerConfig::default(),
            registration: Registration::default(),
            dubbo_port: None,
            admin: None,
            reflection: None,
        }
    }
}

/// Collects services, layers and settings; then [`bind`](ServerBuilder::bind) or
/// [`serve`](ServerBuilder::serve).
pub struct ServerBuilder<L> {
    router: Router,
    layer: L,
    config: ServerConfig,
    registration: Registration,
    dubbo_port: Option<u16>,
    admin: Option<AdminConfig>,
    /// gRPC reflection's descriptors, or why a set given was unreadable.
    reflection: Option<Result<Descriptors, String>>,
}

impl<L> ServerBuilder<L> {
    /// Hosts a service (usually a generated `XServer`), in no group.
    pub fn add_service(mut self, service: impl RpcService) -> Self {
        self.router.add_service("", service);
        self
    }

    /// Hosts a service in `group` (Dubbo's group: one name, separate deployments).
    pub fn add_service_in_group(mut self, group: impl Into<String>, service: impl RpcService) -> Self {
        self.router.add_service(group, service);
        self
    }

    /// Wraps the router in a tower layer. Layers added later wrap earlier ones, so the last
    /// added sees a request first. Every call of every protocol passes through them, unary
    /// and streaming alike (a streaming request carries its messages,
    /// [`Request::is_streaming`](crate::Request::is_streaming)), with the connection it came
    /// on ([`Request::connection`](crate::Request::connection)). Errors of a layer become
    /// statuses (see [`Status::from_box_error`](crate::Status::from_box_error)).
    pub fn layer<N>(self, layer: N) -> ServerBuilder<Stack<L, N>> {
        ServerBuilder {
            router: self.router,
            layer: Stack::new(self.layer, layer),
            config: self.config,
            registration: self.registration,
            dubbo_port: self.dubbo_port,
            admin: self.admin,
            reflection: self.reflection,
        }
    }

    /// Registers the hosted services in `registry` once listening, and deregisters them
    /// first thing on shutdown.
    pub fn registry(mut self, registry: Arc<dyn Registry>) -> Self {
        self.registration.registry = Some(registry);
        self
    }

    /// The `host:port` consumers should dial, if not the listener's own address (an
    /// unspecified bind address such as `0.0.0.0` is registered as `127.0.0.1`).
    pub fn advertise(mut self, address: impl Into<String>) -> Self {
        self.registration.advertise = Some(address.into());
        self
    }

    /// The weight registered for this provider (100 = normal).
    pub fn weight(mut self, weight: u32) -> Self {
        self.registration.weight = weight;
        self
    }

    /// The application this provider belongs to, as Dubbo names it (`application=` in its
    /// registry URLs; tag and condition routing key on it). The executable's name by default.
    pub fn application(mut self, name: impl Into<String>) -> Self {
        self.registration.application = Some(name.into());
        self
    }

    /// Also listens on `port` (Dubbo's default is 20880; 0 picks a free one) at the address
    /// [`bind`](Self::bind) is given, as a Dubbo provider with its own `dubbo.protocol.port`
    /// does. The main port keeps serving every protocol, dubbo2 included; `dubbo://`
    /// registrations name this port. (A consumer that does not pin a protocol then sees the
    /// provider at both ports, as a Dubbo consumer sees a provider's two protocols.)
    ///
    /// ```no_run
    /// # mod rpc { pub use rpc_core::*; }
    /// # async fn run(greeter: impl rpc::RpcService) -> std::io::Result<()> {
    /// let bound = rpc::Server::builder().add_service(greeter).dubbo_port(20880).bind("0.0.0.0:50051").await?;
    /// assert_eq!(bound.dubbo_addr().map(|a| a.port()), Some(20880));
    /// bound.serve().await
    /// # }
    /// ```
    pub fn dubbo_port(mut self, port: u16) -> Self {
        self.dubbo_port = Some(port);
        self
    }

    /// Serves the admin port at `address` (`127.0.0.1:22222` is Dubbo's QoS port; port 0
    /// picks a free one), plain HTTP/1.1: `/live` (200 while serving), `/startup` (200 once
    /// listening and registered), `/ready` (200 when started, online and not shutting down;
    /// else 503), `/metrics` (Prometheus text), `/services` (JSON: services, methods, whether
    /// online), `/offline` (deregisters; calls still arriving are served) and `/online`
    /// (registers again). Bind it to loopback unless a [token](Self::admin_token) guards it.
    ///
    /// It also installs the process's Prometheus recorder
    /// ([`install_prometheus`](crate::metrics::install_prometheus)) if none is installed, so
    /// that `/metrics` shows what a [`MetricsLayer`](crate::metrics::MetricsLayer) records:
    ///
    /// ```no_run
    /// # mod rpc { pub use rpc_core::*; }
    /// # async fn run(greeter: impl rpc::RpcService) -> std::io::Result<()> {
    /// let bound = rpc::Server::builder()
    ///     .admin("127.0.0.1:22222")
    ///     .layer(rpc::metrics::MetricsLayer::server())
    ///     .add_service(greeter)
    ///     .bind("127.0.0.1:50051")
    ///     .await?;
    /// assert_eq!(bound.admin_addr().map(|a| a.port()), Some(22222));
    /// bound.serve().await
    /// # }
    /// ```
    pub fn admin(mut self, address: impl Into<String>) -> Self {
        if let Err(e) = crate::metrics::install_prometheus() {
            tracing::warn!(error = %e, "the admin port's /metrics will answer 503");
        }
        let token = self.admin.take().and_then(|admin| admin.token);
        self.admin = Some(AdminConfig { address: address.into(), token });
        self
    }

    /// Requires `Authorization: Bearer <token>` on every admin path but the probes
    /// (`/live`, `/ready`, `/startup`), as Dubbo's QoS leaves only those public. Without a
    /// call to [`admin`](Self::admin) it turns the admin port on at `127.0.0.1:22222`.
    pub fn admin_token(mut self, token: impl Into<String>) -> Self {
        let admin = self.admin.get_or_insert_with(|| AdminConfig { address: "127.0.0.1:22222".into(), token: None });
        admin.token = Some(token.into());
        self
    }

    /// Serves gRPC server reflection (`grpc.reflection.v1` and `v1alpha`) with the
    /// descriptors in `descriptor_set`, a serialized `FileDescriptorSet`: the
    /// `FILE_DESCRIPTOR_SET` that `rpc-build` generates for a `.proto` build (call again to
    /// add more). grpcurl, grpcio's reflection client and `rpcctl describe` then list the
    /// hosted services and describe those built from `.proto` files. A set that is not a
    /// `FileDescriptorSet` makes [`bind`](Self::bind) fail with `InvalidData`.
    ///
    /// ```no_run
    /// # mod rpc { pub use rpc_core::*; }
    /// # const FILE_DESCRIPTOR_SET: &[u8] = &[];
    /// # async fn run(greeter: impl rpc::RpcService) -> std::io::Result<()> {
    /// rpc::Server::builder().grpc_reflection(FILE_DESCRIPTOR_SET).add_service(greeter).serve("127.0.0.1:50051").await
    /// # }
    /// ```
    pub fn grpc_reflection(mut self, descriptor_set: &[u8]) -> Self {
        let mut descriptors = match self.reflection.take() {
            Some(Err(e)) => {
                self.reflection = Some(Err(e));
                return self;
            }
            Some(Ok(descriptors)) => descriptors,
            None => Descriptors::default(),
        };
        self.reflection = Some(match descriptors.add_set(descriptor_set) {
            Ok(()) => Ok(descriptors),
            Err(e) => Err(format!("grpc_reflection was given bytes that are no FileDescriptorSet: {e}")),
        });
        self
    }

    /// What is written to the registry: interface-level registrations, the application
    /// instance of Dubbo 3's application-level discovery, or both (the default, as in Dubbo).
    pub fn register_mode(mut self, mode: RegisterMode) -> Self {
        self.registration.mode = mode;
        self
    }

    /// Where consumers read the application instance's metadata from, as Dubbo's
    /// `metadata-type` chooses it: the registry's metadata report as well as this provider's
    /// `MetadataService` (`Remote`, the default here) or only the `MetadataService` (`Local`,
    /// Dubbo's default). Registries without a metadata report (etcd) store it `Local`.
    ///
    /// ```
    /// # mod rpc { pub use rpc_core::*; pub mod registry { pub use rpc_registry::*; } }
    /// use rpc::registry::MetadataStorage;
    /// let builder = rpc::Server::builder().application("greeter-app").metadata_storage(MetadataStorage::Local);
    /// # drop(builder);
    /// ```
    pub fn metadata_storage(mut self, storage: MetadataStorage) -> Self {
        self.registration.metadata_storage = storage;
        self
    }

    /// A metadata entry registered with this provider.
    pub fn registry_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.registration.metadata.insert(key.into(), value.into());
        self
    }

    /// Largest request or reply on every protocol (default 8 MiB): a binary-protocol frame,
    /// header included, a gRPC message, and a dubbo2 body (Dubbo's `payload`). A larger request is answered
    /// `ResourceExhausted` without being buffered, and the connection kept.
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.config.binary.max_frame_size = bytes;
        self.config.grpc.max_message_size = bytes;
        self.config.dubbo.payload = bytes;
        self
    }

    /// gRPC calls a client may have open at once on one connection (default 1,024).
    pub fn grpc_max_concurrent_streams(mut self, streams: u32) -> Self {
        self.config.grpc.max_concurrent_streams = streams;
        self
    }

    /// The largest HTTP/2 frame a gRPC client may send (default 256 KiB; HTTP/2 allows 16 KiB
    /// to 16 MiB − 1). A message up to this long arrives in one frame and is used as it came;
    /// a longer one is joined from pieces, a copy. It is also what a peer can make one
    /// connection set aside with a frame header alone (see `docs/SECURITY.md`).
    pub fn grpc_max_frame_size(mut self, bytes: u32) -> Self {
        self.config.grpc.max_frame_size = bytes.clamp(16 * 1024, (1 << 24) - 1);
        self
    }

    /// Request bytes a gRPC connection may have in flight unread, over all its calls and
    /// for any one of them (HTTP/2's connection and stream windows; default 4 MiB).
    pub fn grpc_connection_window(mut self, bytes: u32) -> Self {
        self.config.grpc.connection_window = bytes.max(65_535);
        self
    }

    /// Compresses gRPC replies of at least `threshold` bytes with `compression` for callers
    /// whose `grpc-accept-encoding` lists it (grpcio, tonic and grpc-go send gzip; tonic and
    /// grpc-go also zstd). Compressed requests in gzip or zstd are read whatever this says;
    /// one in another encoding is answered `UNIMPLEMENTED` with the encodings accepted.
    ///
    /// ```
    /// # mod rpc { pub use rpc_core::*; }
    /// let server = rpc::Server::builder().grpc_compression(rpc::transport::Compression::Gzip, 1024);
    /// # drop(server);
    /// ```
    pub fn grpc_compression(mut self, compression: crate::compression::Compression, threshold: usize) -> Self {
        self.config.grpc.compression = Some(compression);
        self.config.grpc.compression_threshold = threshold;
        self
    }

    /// Binary-protocol streams a client may have open at once on one connection (default
    /// 1,024); one more is refused with `ResourceExhausted` and not run.
    pub fn binary_max_concurrent_streams(mut self, streams: usize) -> Self {
        self.config.binary.max_concurrent_streams = streams;
        self
    }

    /// A connection that sends nothing for this long (heartbeats count) is closed (default 60 s).
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.config.idle_timeout = idle;
        self
    }

    /// Serves TLS on every protocol of the port (and, if `tls` allows, plaintext beside
    /// it); a registered provider advertises `ssl-enabled=true`, so consumers connect over
    /// TLS. See [`ServerTls`](crate::tls::ServerTls).
    pub fn tls(mut self, tls: crate::tls::ServerTls) -> Self {
        self.config.tls = Some(tls);
        self
    }

    /// Dubbo's token: every call must carry it in its `token` attachment, or it is refused
    /// `PermissionDenied` without running. `"true"` or `"default"` picks a random token (a
    /// UUID, new for each process), anything else is the token. It is registered as the
    /// `token` URL parameter, so consumers that find the provider in a registry (ours and
    /// Dubbo's) send it; direct callers set the attachment themselves.
    ///
    /// ```
    /// # mod rpc { pub use rpc_core::*; }
    /// let server = rpc::Server::builder().token("true");
    /// # drop(server);
    /// ```
    pub fn token(mut self, setting: &str) -> Self {
        let token = crate::auth::resolve_token(setting);
        self.router.require_token(&token);
        self.registration.metadata.insert(crate::auth::TOKEN_ATTACHMENT.into(), token);
        self
    }

    /// Connections open at once, in all and from one IP address (defaults 16,384 and
    /// 2,048); one more is closed as soon as it is accepted, and the refusal logged.
    pub fn max_connections(mut self, total: usize, per_ip: usize) -> Self {
        self.config.max_connections = total;
        self.config.max_connections_per_ip = per_ip;
        self
    }

    /// A connection whose peer takes none of a reply for this long is closed (default 60 s).
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.config.write_timeout = timeout;
        self
    }

    /// On shutdown, how long calls in flight may take to finish (default 30 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.config.shutdown_grace = grace;
        self
    }

    /// All connection settings at once.
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// Listens on `addr` (port 0 picks a free port); serving starts with
    /// [`BoundServer::serve`] or [`BoundServer::serve_with_shutdown`].
    pub async fn bind(self, addr: impl ToSocketAddrs) -> io::Result<BoundServer<L>> {
        if let Some(Err(e)) = &self.reflection {
            return Err(io::Error::new(io::ErrorKind::InvalidData, e.clone()));
        }
        let listener = TcpListener::bind(addr).await?;
        let dubbo = match self.dubbo_port {
            Some(port) => {
                let mut dubbo_addr = listener.local_addr()?;
                dubbo_addr.set_port(port);
                Some(TcpListener::bind(dubbo_addr).await?)
            }
            None => None,
        };
        let admin = match &self.admin {
            Some(config) => Some(TcpListener::bind(&config.address).await?),
            None => None,
        };
        Ok(BoundServer { listener, dubbo, admin, builder: self })
    }

    /// Serves on a listener bound elsewhere (inherited sockets, tests, benchmarks). A
    /// [`dubbo_port`](Self::dubbo_port) is not bound: this listener serves dubbo2 too.
    pub fn bind_listener(self, listener: TcpListener) -> BoundServer<L> {
        BoundServer { listener, dubbo: None, admin: None, builder: self }
    }

    /// Serves one already-open byte stream (an in-memory duplex in tests and benchmarks, a
    /// Unix socket), in whichever protocol it speaks, until the peer closes it.
    pub async fn serve_io<IO>(self, io: IO)
    where
        IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
        L: Layer<Router>,
        L::Service: Service<Request, Response = Response> + Clone + Send + 'static,
        <L::Service as Service<Request>>::Error: Into<BoxError>,
        <L::Service as Service<Request>>::Future: Send,
    {
        let listener = Listener::new(self.layer.layer(self.router.clone()), self.router, self.config);
        listener.serve(Unaddressed(io));
        listener.wait().await
    }

    /// Serves the connections `incoming` yields (any stream of [`Connected`] streams: a TCP
    /// listener as [`TcpIncoming`](super::TcpIncoming), Unix sockets, TLS streams) until
    /// `signal` completes, then shuts down gracefully as
    /// [`BoundServer::serve_with_shutdown`] does.
    ///
    /// Registers nothing: the stream has no address to advertise. A builder given a
    /// [`registry`](Self::registry) is refused with `InvalidInput`; use
    /// [`bind`](Self::bind) or [`bind_listener`](Self::bind_listener) for a registered
    /// provider.
    pub async fn serve_with_incoming<I, IO>(self, incoming: I, signal: impl Future<Output = ()>) -> io::Result<()>
    where
        I: futures_core::Stream<Item = io::Result<IO>>,
        IO: Connected,
        L: Layer<Router>,
        L::Service: Service<Request, Response = Response> + Clone + Send + 'static,
        <L::Service as Service<Request>>::Error: Into<BoxError>,
        <L::Service as Service<Request>>::Future: Send,
    {
        if self.registration.registry.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "serve_with_incoming registers nothing (an incoming stream has no address to advertise); \
                 use bind or bind_listener for a provider with a registry",
            ));
        }
        let mut listener = Listener::new(self.layer.layer(self.router.clone()), self.router, self.config);
        listener.accept_until(incoming, signal).await;
        listener.drain().await;
        Ok(())
    }

    /// Binds `addr` and serves until the process ends.
    pub async fn serve(self, addr: impl ToSocketAddrs) -> io::Result<()>
    where
        L: Layer<Router>,
        L::Service: Service<Request, Response = Response> + Clone + Send + 'static,
        <L::Service as Service<Request>>::Error: Into<BoxError>,
        <L::Service as Service<Request>>::Future: Send,
    {
        self.bind(addr).await?.serve().await
    }

    /// Binds `addr` and serves until `signal` completes, then shuts down gracefully.
    pub async fn serve_with_shutdown(self, addr: impl ToSocketAddrs, signal: impl Future<Output = ()>) -> io::Result<()>
    where
        L: Layer<Router>,
        L::Service: Service<Request, Response = Response> + Clone + Send + 'static,
        <L::Service as Service<Request>>::Error: Into<BoxError>,
        <L::Service as Service<Request>>::Future: Send,
    {
        self.bind(addr).await?.serve_with_shutdown(signal).await
    }
}

/// A server whose listener is bound; its address is known before it serves.
pub struct BoundServer<L> {
    listener: TcpListener,
    /// The separate dubbo2 port, if one was asked for.
    dubbo: Option<TcpListener>,
    /// The admin port, if one was asked for.
    admin: Option<TcpListener>,
    builder: ServerBuilder<L>,
}

impl<L> BoundServer<L>
where
    L: Layer<Router>,
    L::Service: Service<Request, Response = Response> + Clone + Send + 'static,
    <L::Service as Service<Request>>::Error: Into<BoxError>,
    <L::Service as Service<Request>>::Future: Send,
{
    /// The address the server listens on (with the port chosen for port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The separate dubbo2 port's address, when [`ServerBuilder::dubbo_port`] asked for one.
    pub fn dubbo_addr(&self) -> Option<SocketAddr> {
        self.dubbo.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The admin port's address, when [`ServerBuilder::admin`] asked for one.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Serves until the process ends; see [`serve_with_shutdown`](Self::serve_with_shutdown) to stop.
    pub async fn serve(self) -> io::Result<()> {
        self.serve_with_shutdown(std::future::pending()).await
    }

    /// Serves until `signal` completes, then: stops accepting, tells every connection to go
    /// away (clients stop sending; requests already on the wire are answered `Unavailable`
    /// without running), lets in-flight calls finish within the grace period, and closes.
    pub async fn serve_with_shutdown(self, signal: impl Future<Output = ()>) -> io::Result<()> {
        let BoundServer { listener, dubbo, admin, mut builder } = self;
        let local = listener.local_addr()?;
        let dubbo_local = dubbo.as_ref().map(TcpListener::local_addr).transpose()?;
        if builder.config.tls.is_some() {
            // The URL parameter Dubbo's consumers read to connect over TLS.
            builder.registration.metadata.insert("ssl-enabled".into(), "true".into());
        }
        let phase = Phase::default();
        let stop_admin = tokio_util::sync::CancellationToken::new();
        // Serving before registering: the startup probe answers 503 until registered.
        if let (Some(listener), Some(config)) = (admin, &builder.admin) {
            admin::spawn(listener, config, phase.clone(), &builder.router.registrations(), stop_admin.clone());
        }
        let _stop_admin = stop_admin.drop_guard();
        let registered = builder.registration.register(&builder.router, local, dubbo_local).await;
        if let Some(application) = registered.application() {
            // What Java consumers ask for an application instance's services, unregistered
            // as Dubbo keeps it.
            let metadata = rpc_registry::MetadataInfo::of(application);
            builder.router.add_unguarded_service(application.application.clone(), MetadataService::new(&metadata));
        }
        if !builder.router.services().iter().any(|service| service.name == HEALTH_SERVICE) {
            let hosted = builder.router.services().into_iter().map(|service| service.name.to_string());
            builder.router.add_unguarded_service("", HealthService::new(phase.clone(), hosted));
        }
        if let Some(Ok(descriptors)) = builder.reflection.take() {
            let hosted = builder.router.services().into_iter().map(|service| service.name.to_string());
            for service in ReflectionService::both(descriptors, hosted) {
                builder.router.add_unguarded_service("", service);
            }
        }
        phase.started(registered).await;
        let mut connections =
            Listener::new(builder.layer.layer(builder.router.clone()), builder.router, builder.config);
        tracing::info!(%local, dubbo = ?dubbo_local, "serving");
        let incoming = TcpIncoming::new(listener);
        match dubbo {
            Some(dubbo) => connections.accept_until(stream::select(incoming, TcpIncoming::new(dubbo)), signal).await,
            None => connections.accept_until(incoming, signal).await,
        }
        // Leave the registry first, so consumers stop choosing this provider.
        if let Some(registered) = phase.stopping().await {
            registered.deregister().await;
        }
        connections.drain().await;
        tracing::info!(%local, "stopped");
        Ok(())
    }
}
