use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::net::ToSocketAddrs;
use tracing::Instrument;

use crate::transport::{Connection, ConnectionConfig, ResponseFuture};
use crate::{Request, Response, Status};

/// A client's handle to a provider: a `tower::Service<Request>` that is cheap to clone and
/// always ready — no `tower::buffer`, no lock on the call path. Clones share one multiplexed
/// connection.
///
/// ```no_run
/// # async fn run() -> Result<(), rpc_core::Status> {
/// use std::time::Duration;
/// let channel = rpc_core::Channel::builder()
///     .timeout(Duration::from_millis(500))
///     .connect("127.0.0.1:20880")
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Channel {
    // One allocation shared by clones: generated clients clone the channel for every call.
    inner: Arc<ChannelInner>,
}

#[derive(Debug)]
struct ChannelInner {
    connection: Connection,
    default_timeout: Option<Duration>,
}

/// Settings of a [`Channel`]; [`connect`](ChannelBuilder::connect) opens it.
#[derive(Debug, Clone, Default)]
pub struct ChannelBuilder {
    config: ConnectionConfig,
    timeout: Option<Duration>,
}

impl ChannelBuilder {
    /// Deadline of calls that set none themselves.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }
    /// Idle interval between heartbeats; `None` disables heartbeats and dead-peer detection.
    pub fn heartbeat_interval(mut self, interval: Option<Duration>) -> Self {
        self.config.heartbeat_interval = interval;
        self
    }
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.config.max_frame_size = bytes;
        self
    }
    pub fn config(mut self, config: ConnectionConfig) -> Self {
        self.config = config;
        self
    }

    pub async fn connect(self, addr: impl ToSocketAddrs) -> Result<Channel, Status> {
        let connection = Connection::connect(addr, &self.config).await?;
        Ok(self.channel(connection))
    }

    /// A channel over a byte stream already open to a provider (an in-memory duplex in tests
    /// and benchmarks, a Unix socket); `peer` names it in errors and traces.
    pub fn connect_io<IO>(self, io: IO, peer: impl Into<String>) -> Channel
    where
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
    {
        let connection = Connection::from_io(io, peer, &self.config);
        self.channel(connection)
    }

    fn channel(self, connection: Connection) -> Channel {
        Channel { inner: Arc::new(ChannelInner { connection, default_timeout: self.timeout }) }
    }
}

impl Channel {
    pub fn builder() -> ChannelBuilder {
        ChannelBuilder::default()
    }

    /// Connects with default settings.
    pub async fn connect(addr: impl ToSocketAddrs) -> Result<Channel, Status> {
        Channel::builder().connect(addr).await
    }

    /// The connection underneath, for its state.
    pub fn connection(&self) -> &Connection {
        &self.inner.connection
    }
}

impl tower::Service<Request> for Channel {
    type Response = Response;
    type Error = Status;
    type Future = tracing::instrument::Instrumented<ResponseFuture>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        if request.deadline().is_none() {
            if let Some(timeout) = self.inner.default_timeout {
                request = request.with_timeout(timeout);
            }
        }
        let connection = &self.inner.connection;
        let span = tracing::debug_span!(
            "rpc.call",
            service = request.service(),
            method = request.method(),
            peer = connection.peer()
        );
        connection.call(request).instrument(span)
    }
}
