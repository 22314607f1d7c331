use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use rpc_registry::Registry;
use tokio::net::ToSocketAddrs;
use tracing::instrument::Instrumented;
use tracing::Instrument;

use super::consumer_registration::ConsumerRegistration;
use super::service_check::{FirstCallCheck, ServiceCheck};
use crate::cluster::client::{ClusterClient, ClusterFuture};
use crate::cluster::core::Core;
use crate::cluster::directory::DirectorySettings;
use crate::cluster::retry_budget::Budget;
use crate::cluster::settings::ClusterSettings;
use crate::cluster::{
    discover, Balance, BreakerConfig, Cluster, Directory, Discover, EndpointInfo, MethodConfig, PoolConfig, RetryBudget,
};
use crate::transport::{Connection, ConnectionConfig, Protocol, ResponseFuture};
use crate::{BoxFuture, MessageStream, Request, Response, ServiceDescriptor, Status};

/// A client's handle to a service: a `tower::Service<Request>` that is cheap to clone and
/// always ready — no `tower::buffer`, no lock on the call path.
///
/// Two kinds: [`connect`](ChannelBuilder::connect) opens one multiplexed connection to one
/// provider (the shortest path); [`build`](ChannelBuilder::build) makes a cluster channel
/// over a set of providers from a static list or a registry, with connection pools, a load
/// balancer, a circuit breaker per provider and a cluster mode (failover by default).
///
/// ```no_run
/// # mod rpc { pub use rpc_core::*; }
/// # async fn run() -> Result<(), rpc::Status> {
/// use std::time::Duration;
/// use rpc::cluster::{Balance, Cluster};
/// let direct = rpc::Channel::builder()
///     .timeout(Duration::from_millis(500))
///     .connect("127.0.0.1:20880")
///     .await?;
/// let cluster = rpc::Channel::builder()
///     .endpoints(["127.0.0.1:20880", "127.0.0.1:20881;weight=200"])
///     .load_balance(Balance::WeightedRoundRobin)
///     .cluster(Cluster::Failover { retries: 2 })
///     .timeout(Duration::from_millis(500))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Channel {
    // One allocation shared by clones: generated clients clone the channel for every call.
    inner: Arc<ChannelInner>,
}

struct ChannelInner {
    route: Route,
    default_timeout: Option<Duration>,
    /// The settings check left for the first call (a cluster channel built without the
    /// service's descriptor).
    check: Option<FirstCallCheck>,
    /// A registry channel's registration as a consumer, withdrawn when the channel goes.
    _consumer: Option<ConsumerRegistration>,
}

enum Route {
    Direct(Connection),
    Cluster(ClusterClient),
}

/// Settings of a [`Channel`]: [`connect`](ChannelBuilder::connect) opens a direct one,
/// [`build`](ChannelBuilder::build) a cluster one. Settings marked *Cluster* apply to cluster
/// channels only (a direct channel refuses them). Defaults are listed in the project's
/// `docs/CONFIGURATION.md`.
///
/// ```no_run
/// # mod rpc { pub use rpc_core::*; pub mod registry { pub use rpc_registry::*; } }
/// # static GREETER_DESCRIPTOR: rpc::ServiceDescriptor = rpc::ServiceDescriptor { name: "demo.Greeter", version: "", serialization: rpc::SerializationId::MsgPack, methods: &[] };
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use rpc::cluster::{Balance, BreakerConfig, Cluster, HashKey, MethodConfig};
///
/// let registry = rpc::registry::connect("file://").await?;
/// let channel = rpc::Channel::builder()
///     // The providers of demo.Greeter; settings are checked against its descriptor.
///     .registry(registry, &GREETER_DESCRIPTOR)
///     .load_balance(Balance::PeakEwma)
///     .cluster(Cluster::Failover { retries: 2 })
///     .circuit_breaker(BreakerConfig::default().failure_rate(0.5).open_for(Duration::from_secs(5)))
///     .method("lookup", MethodConfig::new().balance(Balance::ConsistentHash { key: HashKey::Arg(0), vnodes: 160 }))
///     .timeout(Duration::from_millis(500))
///     .build()?;
/// # drop(channel); Ok(()) }
/// ```
#[derive(Default)]
pub struct ChannelBuilder {
    config: ConnectionConfig,
    timeout: Option<Duration>,
    discover: Option<Discover>,
    balance: Balance,
    cluster: Cluster,
    breaker: BreakerConfig,
    pool: PoolConfig,
    warmup: Duration,
    retry_budget: RetryBudget,
    methods: HashMap<String, MethodConfig>,
    version: Option<String>,
    group: Option<String>,
    /// Set explicitly by [`ChannelBuilder::protocol`].
    protocol: Option<Protocol>,
    /// The service the channel calls, to check its settings against.
    service: Option<&'static ServiceDescriptor>,
    /// The service name a registry channel looks providers up under.
    discovers: Option<String>,
    /// Where the endpoints come from, for errors.
    source: Option<String>,
    /// The cluster-only settings given, which a direct channel refuses.
    cluster_only: Vec<&'static str>,
    /// The registry a registry channel registers itself in as a consumer.
    consumer_registry: Option<Arc<dyn Registry>>,
    /// The application it registers as (Dubbo's `application`).
    application: Option<String>,
}

/// What [`ChannelBuilder::registry`] looks up: a service name, or a service's descriptor (its
/// name, and the channel's settings are checked against it when it is built).
pub trait RegistryService {
    /// The name providers registered under.
    fn service_name(&self) -> &str;
    /// The service's descriptor, when known.
    fn descriptor(&self) -> Option<&'static ServiceDescriptor> {
        None
    }
}

impl RegistryService for &str {
    fn service_name(&self) -> &str {
        self
    }
}

impl RegistryService for String {
    fn service_name(&self) -> &str {
        self
    }
}

impl RegistryService for &'static ServiceDescriptor {
    fn service_name(&self) -> &str {
        self.name
    }
    fn descriptor(&self) -> Option<&'static ServiceDescriptor> {
        Some(self)
    }
}

impl ChannelBuilder {
    /// Deadline of calls (and streams) that set none themselves, counted from when each
    /// starts and sent to the provider, which stops work the caller no longer waits for.
    ///
    /// **There is none by default**, as in gRPC and tonic (Dubbo's is 1 s, tarpc's 10 s): a
    /// call then waits as long as its provider takes. Dead or hung providers are still
    /// noticed (heartbeats, and a connection counts as up only once the provider answers),
    /// but a handler that never returns holds its caller. Set one for production: the right
    /// value depends on the call, and a wrong default fails healthy slow calls far from
    /// where it was chosen. A deadline costs a timer per call (about 0.2 µs, measured).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
    /// How long opening a connection may take, until the provider has answered (default 3 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }
    /// Idle interval between heartbeats (default 15 s); a connection silent for three of
    /// them is presumed dead. `None` disables heartbeats and dead-peer detection.
    pub fn heartbeat_interval(mut self, interval: Option<Duration>) -> Self {
        self.config.heartbeat_interval = interval;
        self
    }
    /// Largest frame sent or accepted, header included (default 8 MiB). A larger request
    /// fails with `ResourceExhausted` before it is sent; a larger reply is refused.
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.config.max_frame_size = bytes;
        self
    }
    /// On gRPC, compresses requests of at least `threshold` bytes with `compression`
    /// (`grpc-encoding`) and tells providers they may compress replies with it
    /// (`grpc-accept-encoding`). Compressed replies are read either way.
    ///
    /// ```
    /// # mod rpc { pub use rpc_core::*; }
    /// use rpc::transport::Compression;
    /// let channel = rpc::Channel::builder().protocol(rpc::Protocol::Grpc).grpc_compression(Compression::Zstd, 1024);
    /// # drop(channel);
    /// ```
    pub fn grpc_compression(mut self, compression: crate::compression::Compression, threshold: usize) -> Self {
        self.config.grpc_compression = Some(compression);
        self.config.grpc_compression_threshold = threshold;
        self
    }
    /// Connects over TLS with these settings, in whichever protocol (see
    /// [`ClientTls`](crate::tls::ClientTls)).
    pub fn tls(mut self, tls: crate::tls::ClientTls) -> Self {
        self.config.tls = Some(tls);
        self
    }
    /// All connection settings at once.
    pub fn config(mut self, config: ConnectionConfig) -> Self {
        self.config = config;
        self
    }
    /// The wire protocol: the binary protocol (default) or gRPC over HTTP/2, which also
    /// reaches plain gRPC servers (tonic, grpc-go, grpc-java…). A cluster channel that sets
    /// none speaks to each provider the protocol it registered (`rpc`, `grpc`, `tri`).
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.config.protocol = protocol;
        self.protocol = Some(protocol);
        self
    }

    /// The service this channel calls: cluster settings are checked against it when the
    /// channel is built (a [`method`](Self::method) the service lacks, a consistent-hash key
    /// naming no argument, a registry name that differs), each an error then. Without it the
    /// checks run on the first call and only log warnings.
    pub fn service(mut self, service: &'static ServiceDescriptor) -> Self {
        self.service = Some(service);
        self
    }

    /// Cluster: a fixed set of providers, `host:port` or `host:port;weight=N`.
    pub fn endpoints<I, A>(mut self, addresses: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: AsRef<str>,
    {
        self.source = Some("the endpoint list".into());
        self.discover(discover::static_endpoints("", addresses))
    }
    /// Cluster: the providers of `service` that `registry` knows, followed as they change.
    /// `service` is a name, or a service's descriptor (`&GREETER_DESCRIPTOR`), which also
    /// does what [`service`](Self::service) does.
    pub fn registry(mut self, registry: Arc<dyn Registry>, service: impl RegistryService) -> Self {
        let name = service.service_name().to_string();
        if let Some(descriptor) = service.descriptor() {
            self.service = Some(descriptor);
        }
        self.source = Some(format!("the registry's {name:?}"));
        self.discovers = Some(name.clone());
        self.consumer_registry = Some(registry.clone());
        // Application instances that keep their metadata `local` are asked for it.
        registry.use_metadata_client(Arc::new(super::metadata_client::MetadataServiceClient));
        self.discover(discover::from_registry(registry, name))
    }
    /// Cluster: the application this consumer belongs to, as it registers itself (Dubbo's
    /// `application`); the executable's name by default.
    pub fn application(mut self, name: impl Into<String>) -> Self {
        self.application = Some(name.into());
        self.cluster_only.push("application");
        self
    }
    /// Cluster: any stream of endpoint sets.
    pub fn discover(mut self, discover: Discover) -> Self {
        self.discover = Some(discover);
        self.cluster_only.push("endpoints/registry/discover");
        self
    }
    /// Cluster: only providers registered with this version.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.cluster_only.push("version");
        self.version = Some(version.into());
        self
    }
    /// Cluster: only providers registered in this group.
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.cluster_only.push("group");
        self.group = Some(group.into());
        self
    }
    /// Cluster: the load balancer (default weighted random).
    pub fn load_balance(mut self, balance: Balance) -> Self {
        self.cluster_only.push("load_balance");
        self.balance = balance;
        self
    }
    /// Cluster: what a failed call does (default failover with 2 retries).
    pub fn cluster(mut self, cluster: Cluster) -> Self {
        self.cluster_only.push("cluster");
        self.cluster = cluster;
        self
    }
    /// Cluster: when a provider's circuit breaker opens and closes.
    pub fn circuit_breaker(mut self, breaker: BreakerConfig) -> Self {
        self.cluster_only.push("circuit_breaker");
        self.breaker = breaker;
        self
    }
    /// Cluster: multiplexed connections per provider (default 1).
    pub fn connections_per_endpoint(mut self, connections: usize) -> Self {
        self.cluster_only.push("connections_per_endpoint");
        self.pool.connections = connections.max(1);
        self
    }
    /// Cluster: waits between reconnect attempts, exponential from `base` to `max`, jittered.
    pub fn reconnect_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.cluster_only.push("reconnect_backoff");
        self.pool = self.pool.reconnect_backoff(base, max);
        self
    }
    /// Cluster: a new provider's weight ramps up linearly over this period (default none).
    pub fn warmup(mut self, warmup: Duration) -> Self {
        self.cluster_only.push("warmup");
        self.warmup = warmup;
        self
    }
    /// Cluster: how many retries failover may add to the calls.
    pub fn retry_budget(mut self, budget: RetryBudget) -> Self {
        self.cluster_only.push("retry_budget");
        self.retry_budget = budget;
        self
    }
    /// Cluster: settings for one method (by its wire name) that differ from the channel's.
    pub fn method(mut self, name: impl Into<String>, config: MethodConfig) -> Self {
        self.cluster_only.push("method");
        self.methods.insert(name.into(), config);
        self
    }

    /// A direct channel: one multiplexed connection to `addr`. Refuses cluster-only
    /// settings (a balancer, a cluster mode, per-method settings…), which it could not honour.
    pub async fn connect(self, addr: impl ToSocketAddrs) -> Result<Channel, Status> {
        self.refuse_cluster_settings()?;
        let connection = Connection::connect(addr, &self.config).await?;
        Ok(self.direct(connection))
    }

    fn refuse_cluster_settings(&self) -> Result<(), Status> {
        if self.cluster_only.is_empty() {
            return Ok(());
        }
        // Each setting once, in the order first given.
        let mut given: Vec<&str> = Vec::new();
        for setting in &self.cluster_only {
            if !given.contains(setting) {
                given.push(setting);
            }
        }
        Err(Status::invalid_argument(format!(
            "{} apply to cluster channels only: build() one (with endpoints() or registry()) instead of connect()",
            given.join(", ")
        )))
    }

    /// A direct channel over a byte stream already open to a provider (an in-memory duplex in
    /// tests and benchmarks, a Unix socket); `peer` names it in errors and traces.
    pub fn connect_io<IO>(self, io: IO, peer: impl Into<String>) -> Channel
    where
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
    {
        let connection = Connection::from_io(io, peer, &self.config);
        self.direct(connection)
    }

    fn direct(self, connection: Connection) -> Channel {
        let inner = ChannelInner {
            route: Route::Direct(connection),
            default_timeout: self.timeout,
            check: None,
            _consumer: None,
        };
        Channel { inner: Arc::new(inner) }
    }

    /// A cluster channel over the endpoints of [`endpoints`](Self::endpoints),
    /// [`registry`](Self::registry) or [`discover`](Self::discover). Connects in the
    /// background; calls made before the first endpoint set arrives wait for it (until their
    /// deadline). Needs a tokio runtime.
    pub fn build(self) -> Result<Channel, Status> {
        let check = ServiceCheck {
            discovers: self.discovers.clone(),
            balance: self.balance.clone(),
            methods: self.methods.iter().map(|(name, config)| (name.clone(), config.balance.clone())).collect(),
        };
        let check = match self.service {
            Some(service) => {
                let problems = check.against(service);
                if !problems.errors.is_empty() {
                    return Err(Status::invalid_argument(format!(
                        "channel settings for {}: {}",
                        service.name,
                        problems.errors.join("; ")
                    )));
                }
                for warning in &problems.warnings {
                    tracing::warn!(service = service.name, "channel settings: {warning}");
                }
                None
            }
            // Left for the first call, unless nothing could be wrong (a call then skips it).
            None => check.has_settings_to_check().then(|| FirstCallCheck::new(check)),
        };
        let discover = self.discover.ok_or_else(|| {
            Status::invalid_argument("a cluster channel needs endpoints: call endpoints(), registry() or discover()")
        })?;
        let consumer = match (self.consumer_registry, &self.discovers) {
            (Some(registry), Some(service)) => Some(ConsumerRegistration::start(
                registry,
                service,
                self.service,
                self.version.as_deref(),
                self.group.as_deref(),
                self.application.unwrap_or_else(crate::identity::default_application),
            )),
            _ => None,
        };
        let (settings, balances) =
            ClusterSettings::new(self.cluster, self.balance, self.methods, self.config.connect_timeout);
        let pool = PoolConfig { connection: self.config.clone(), ..self.pool };
        let directory_settings = DirectorySettings {
            balances,
            warmup: self.warmup,
            pool,
            breaker: self.breaker,
            version: self.version,
            group: self.group,
            protocol: self.protocol,
            source: self.source.unwrap_or_else(|| "discovery".into()).into(),
            service: self
                .discovers
                .clone()
                .or_else(|| self.service.map(|s| s.name.to_string()))
                .unwrap_or_default()
                .into(),
        };
        let core = Core::start(discover, directory_settings, settings, Budget::new(self.retry_budget));
        let failback = match self.cluster {
            Cluster::Failback { retries, queue, interval } => Some((retries, queue, interval)),
            _ => None,
        };
        let client = ClusterClient::new(core, failback);
        let inner =
            ChannelInner { route: Route::Cluster(client), default_timeout: self.timeout, check, _consumer: consumer };
        Ok(Channel { inner: Arc::new(inner) })
    }
}

impl Channel {
    /// Settings for a new channel.
    pub fn builder() -> ChannelBuilder {
        ChannelBuilder::default()
    }

    /// Connects a direct channel with default settings.
    pub async fn connect(addr: impl ToSocketAddrs) -> Result<Channel, Status> {
        Channel::builder().connect(addr).await
    }

    /// The connection underneath a direct channel.
    pub fn connection(&self) -> Option<&Connection> {
        match &self.inner.route {
            Route::Direct(connection) => Some(connection),
            Route::Cluster(_) => None,
        }
    }

    /// The endpoint set of a cluster channel.
    pub fn directory(&self) -> Option<&Arc<Directory>> {
        match &self.inner.route {
            Route::Direct(_) => None,
            Route::Cluster(cluster) => Some(cluster.directory()),
        }
    }

    /// The endpoints of a cluster channel now: weight, breaker state, load, calls so far.
    pub fn endpoints(&self) -> Vec<EndpointInfo> {
        self.directory().map(|d| d.endpoints()).unwrap_or_default()
    }
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner.route {
            Route::Direct(connection) => f.debug_tuple("Channel").field(connection).finish(),
            Route::Cluster(cluster) => f.debug_tuple("Channel").field(&cluster.directory().endpoints()).finish(),
        }
    }
}

impl std::fmt::Debug for ChannelBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelBuilder")
            .field("timeout", &self.timeout)
            .field("balance", &self.balance)
            .field("cluster", &self.cluster)
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// The reply to a [`Channel`] call.
    pub struct ChannelFuture {
        #[pin]
        route: RouteFuture,
    }
}

pin_project! {
    #[project = RouteFutureProj]
    enum RouteFuture {
        Direct { #[pin] reply: Instrumented<ResponseFuture> },
        Cluster { #[pin] reply: Instrumented<ClusterFuture> },
        Stream { reply: BoxFuture<Result<Response, Status>> },
    }
}

impl Future for ChannelFuture {
    type Output = Result<Response, Status>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().route.project() {
            RouteFutureProj::Direct { reply } => reply.poll(cx),
            RouteFutureProj::Cluster { reply } => reply.poll(cx),
            RouteFutureProj::Stream { reply } => reply.as_mut().poll(cx),
        }
    }
}

impl Channel {
    /// Opens a streaming call on the direct connection, or on one endpoint of a cluster
    /// channel (picked by the method's balancer; streams are not retried), in whichever
    /// protocol that connection speaks.
    fn open_stream(&self, mut request: Request, outbound: MessageStream) -> BoxFuture<Result<MessageStream, Status>> {
        match &self.inner.route {
            Route::Direct(connection) => {
                request.set_default_timeout(self.inner.default_timeout);
                let span = tracing::debug_span!(
                    "rpc.stream",
                    service = request.service(),
                    method = request.method(),
                    peer = connection.peer()
                );
                Box::pin(connection.call_streaming(request, outbound).instrument(span))
            }
            Route::Cluster(cluster) => {
                if let Some(check) = &self.inner.check {
                    check.on_call(&request);
                }
                cluster.call_streaming(request, outbound, self.inner.default_timeout)
            }
        }
    }
}

impl tower::Service<Request> for Channel {
    type Response = Response;
    type Error = Status;
    type Future = ChannelFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    /// Sends a unary call, or — for a request carrying messages
    /// ([`Request::with_messages`]) — opens a streaming call whose reply messages come back
    /// in the [`Response`].
    fn call(&mut self, mut request: Request) -> Self::Future {
        if let Some(outbound) = request.take_messages() {
            let serialization = request.serialization;
            let opening = self.open_stream(request, outbound);
            let opened = async move { Ok(Response::streaming(serialization, opening.await?)) };
            return ChannelFuture { route: RouteFuture::Stream { reply: Box::pin(opened) } };
        }
        match &self.inner.route {
            Route::Direct(connection) => {
                request.set_default_timeout(self.inner.default_timeout);
                let span = tracing::debug_span!(
                    "rpc.call",
                    service = request.service(),
                    method = request.method(),
                    peer = connection.peer()
                );
                ChannelFuture { route: RouteFuture::Direct { reply: connection.call(request).instrument(span) } }
            }
            Route::Cluster(cluster) => {
                if let Some(check) = &self.inner.check {
                    check.on_call(&request);
                }
                ChannelFuture {
                    route: RouteFuture::Cluster { reply: cluster.call(request, self.inner.default_timeout) },
                }
            }
        }
    }
}
