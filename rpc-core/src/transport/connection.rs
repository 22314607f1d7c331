use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, ToSocketAddrs};

use crate::protocol::binary::client::{BinaryConnection, BinaryResponseFuture};
use crate::protocol::dubbo::client::DubboConnection;
use crate::protocol::grpc::client::GrpcConnection;
use crate::protocol::{Connected, ConnectionConfig, ProtocolConnection};
use crate::request::Returned;
use crate::{BoxFuture, MessageStream, Protocol, Request, Response, Status};

/// A client's connection to one provider, in the protocol its configuration names: the
/// multiplexed binary protocol (the default), gRPC over HTTP/2 (Triple), or Dubbo's dubbo2. Cheap to clone; clones
/// share the connection, and many calls may be in flight at once.
#[derive(Clone)]
pub struct Connection {
    kind: Kind,
}

/// One variant per protocol; [`each_protocol!`] writes the match over them.
#[derive(Clone)]
enum Kind {
    Binary(BinaryConnection),
    Grpc(GrpcConnection),
    Dubbo(DubboConnection),
}

/// `each_protocol!(kind, c => expr)`: `expr` with `c` bound to the connection, whichever
/// protocol it speaks. Adding a protocol adds a line here, not one per method.
macro_rules! each_protocol {
    ($kind:expr, $c:ident => $body:expr) => {
        match $kind {
            Kind::Binary($c) => $body,
            Kind::Grpc($c) => $body,
            Kind::Dubbo($c) => $body,
        }
    };
}

impl Connection {
    /// Connects to the first reachable address of `addr`, speaking `config.protocol`: the
    /// connection is up once the provider has answered (a heartbeat on the binary protocol,
    /// the HTTP/2 handshake on gRPC), all within `config.connect_timeout`.
    ///
    /// With [`ConnectionConfig::tls`], the connection is TLS, the provider verified as the
    /// configured server name or else as the IP address connected to.
    pub async fn connect(addr: impl ToSocketAddrs, config: &ConnectionConfig) -> Result<Connection, Status> {
        Connection::open(addr, None, config).await
    }

    /// [`Connection::connect`] to a `host:port` address, verifying a TLS provider as `host`.
    pub(crate) async fn connect_address(address: &str, config: &ConnectionConfig) -> Result<Connection, Status> {
        Connection::open(address, Some(host_of(address)), config).await
    }

    async fn open(
        addr: impl ToSocketAddrs,
        host: Option<&str>,
        config: &ConnectionConfig,
    ) -> Result<Connection, Status> {
        let limit = config.connect_timeout;
        let opening = async {
            let stream = connect_any(addr).await?;
            let peer_addr = stream.peer_addr().ok();
            let peer = peer_addr.map_or_else(|| "?".to_string(), |a| a.to_string());
            stream.set_nodelay(true).map_err(|e| Status::unavailable(format!("set TCP_NODELAY on {peer}: {e}")))?;
            match &config.tls {
                None => Connection::handshake(stream, peer, config).await,
                Some(tls) => {
                    let ip = peer_addr.map(|a| a.ip().to_string());
                    let host = host.or(ip.as_deref()).unwrap_or("?");
                    let stream = tls.connect(stream, host, config.protocol).await?;
                    Connection::handshake(stream, peer, config).await
                }
            }
        };
        let kind = tokio::time::timeout(limit, opening).await.map_err(|_| {
            Status::unavailable(format!("connect timed out after {limit:?} (no answer to the connection's opening)"))
        })??;
        Ok(Connection { kind })
    }

    /// The protocol's opening on a stream just connected (TLS done, if any).
    async fn handshake<IO: Connected>(stream: IO, peer: String, config: &ConnectionConfig) -> Result<Kind, Status> {
        Ok(match config.protocol {
            Protocol::Binary => Kind::Binary(BinaryConnection::handshake(stream, peer, config).await?),
            Protocol::Grpc => Kind::Grpc(GrpcConnection::handshake(stream, peer, config).await?),
            Protocol::Dubbo => Kind::Dubbo(DubboConnection::handshake(stream, peer, config).await?),
            Protocol::Rest => {
                return Err(Status::invalid_argument(
                    "Protocol::Rest is what a provider serves to curl and browsers; connect over Binary, Grpc or Dubbo",
                ))
            }
        })
    }

    /// A binary-protocol connection over any byte stream already open to a provider: an
    /// in-memory duplex in tests and benchmarks, a Unix socket. `peer` names it in errors.
    pub fn from_io<IO>(io: IO, peer: impl Into<String>, config: &ConnectionConfig) -> Connection
    where
        IO: AsyncRead + AsyncWrite + Send + 'static,
    {
        Connection { kind: Kind::Binary(BinaryConnection::from_io(io, peer, config)) }
    }

    /// The provider's address.
    pub fn peer(&self) -> &str {
        each_protocol!(&self.kind, c => c.peer())
    }

    /// Whether connections of `protocol` hand back the metadata and body of a request they did
    /// not send (so a cluster call need not keep a copy for a retry).
    pub(crate) fn hands_back_unsent(protocol: Protocol) -> bool {
        match protocol {
            Protocol::Binary => BinaryConnection::HANDS_BACK_UNSENT,
            Protocol::Grpc => GrpcConnection::HANDS_BACK_UNSENT,
            Protocol::Dubbo => DubboConnection::HANDS_BACK_UNSENT,
            Protocol::Rest => false,
        }
    }

    /// The protocol this connection speaks.
    pub fn protocol(&self) -> Protocol {
        fn protocol_of<C: ProtocolConnection>(_: &C) -> Protocol {
            C::PROTOCOL
        }
        each_protocol!(&self.kind, c => protocol_of(c))
    }

    /// Closed for good (peer gone, protocol error, dead peer). A connection whose provider is
    /// shutting down is not closed yet but refuses new calls.
    pub fn is_closed(&self) -> bool {
        each_protocol!(&self.kind, c => c.is_closed())
    }

    /// Whether a new call would be sent (neither closed nor told to go away).
    pub fn is_ready(&self) -> bool {
        each_protocol!(&self.kind, c => c.is_ready())
    }

    /// Sends `request` and waits for its reply until the request's deadline. Errors raised
    /// before the request left are marked [`Status::not_sent`], so the cluster client knows
    /// a retry cannot run it twice.
    pub fn call(&self, request: Request) -> ResponseFuture {
        match &self.kind {
            Kind::Binary(c) => ResponseFuture { reply: Reply::Binary { reply: c.call(request) } },
            Kind::Grpc(c) => ResponseFuture { reply: Reply::Grpc { reply: c.call(request) } },
            Kind::Dubbo(c) => ResponseFuture { reply: Reply::Dubbo { reply: c.call(request) } },
        }
    }

    /// Opens a streaming call over either protocol: `outbound` is what the caller sends; resolves,
    /// once the provider has answered, to the provider's messages.
    pub fn call_streaming(
        &self,
        request: Request,
        outbound: MessageStream,
    ) -> BoxFuture<Result<MessageStream, Status>> {
        each_protocol!(&self.kind, c => c.call_streaming(request, outbound))
    }

    /// Calls in flight on this connection (sent or queued, not yet answered).
    pub fn in_flight(&self) -> usize {
        each_protocol!(&self.kind, c => c.in_flight())
    }

    /// Resolves once the connection is closed for good.
    pub async fn closed(&self) {
        each_protocol!(&self.kind, c => c.closed().await)
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("peer", &self.peer())
            .field("protocol", &self.protocol())
            .field("closed", &self.is_closed())
            .finish()
    }
}

pin_project! {
    /// The reply to one call: what [`Connection::call`] returns. The binary protocol's is a
    /// named future (no allocation per call); gRPC's is boxed.
    pub struct ResponseFuture {
        #[pin]
        reply: Reply,
    }
}

pin_project! {
    #[project = ReplyProj]
    enum Reply {
        Binary { #[pin] reply: BinaryResponseFuture },
        Grpc { #[pin] reply: <GrpcConnection as ProtocolConnection>::ResponseFuture },
        Dubbo { #[pin] reply: <DubboConnection as ProtocolConnection>::ResponseFuture },
    }
}

impl ResponseFuture {
    /// After a not-sent error: the request's metadata and body, if the transport hands them
    /// back (the binary protocol does; gRPC does not, so its callers keep a whole copy for a
    /// retry).
    pub(crate) fn take_unsent(self: Pin<&mut Self>) -> Option<Returned> {
        match self.project().reply.project() {
            ReplyProj::Binary { reply } => BinaryConnection::take_unsent(reply),
            ReplyProj::Grpc { reply } => GrpcConnection::take_unsent(reply),
            ReplyProj::Dubbo { reply } => DubboConnection::take_unsent(reply),
        }
    }
}

impl Future for ResponseFuture {
    type Output = Result<Response, Status>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().reply.project() {
            ReplyProj::Binary { reply } => reply.poll(cx),
            ReplyProj::Grpc { reply } => reply.poll(cx),
            ReplyProj::Dubbo { reply } => reply.poll(cx),
        }
    }
}

/// The host of a `host:port` address (an IPv6 host without its brackets).
fn host_of(address: &str) -> &str {
    let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
    host.trim_start_matches('[').trim_end_matches(']')
}

async fn connect_any(addr: impl ToSocketAddrs) -> Result<TcpStream, Status> {
    let addrs =
        tokio::net::lookup_host(addr).await.map_err(|e| Status::unavailable(format!("resolve address: {e}")))?;
    let mut last_error = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last_error = Some(format!("connect to {addr}: {e}")),
        }
    }
    Err(Status::unavailable(last_error.unwrap_or_else(|| "address resolved to nothing".into())))
}
