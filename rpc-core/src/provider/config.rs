use std::time::Duration;

use rpc_codec::DEFAULT_MAX_FRAME_SIZE;

/// Settings of a server's connections: those every protocol shares, and one struct per
/// protocol for the rest.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// let mut config = rpc::ServerConfig::default();
/// config.grpc.max_concurrent_streams = 256;
/// let builder = rpc::Server::builder().config(config);
/// # drop(builder);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// A connection with nothing inbound (heartbeats count) for this long is closed; the
    /// check is lazy, so it closes within one to two of these periods. It also bounds how
    /// long a new connection may take to send the bytes that say which protocol it speaks.
    pub idle_timeout: Duration,
    /// On shutdown, how long in-flight calls may take to finish before connections are cut.
    pub shutdown_grace: Duration,
    /// Connections open at once, from everyone; one more is closed as soon as it is
    /// accepted (Dubbo's `accepts`).
    pub max_connections: usize,
    /// Connections open at once from one IP address.
    pub max_connections_per_ip: usize,
    /// A write the peer does not take within this long (it reads nothing) closes the
    /// connection (binary protocol and dubbo2; HTTP/2's flow control and pings bound gRPC's).
    pub write_timeout: Duration,
    /// The binary protocol's settings.
    pub binary: BinaryServerConfig,
    /// gRPC's settings.
    pub grpc: GrpcServerConfig,
    /// Dubbo's `dubbo://` protocol's settings.
    pub dubbo: DubboServerConfig,
    /// TLS on every protocol of the port; `None` serves plaintext only.
    pub tls: Option<crate::tls::ServerTls>,
}

/// The binary protocol's server settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BinaryServerConfig {
    /// Largest frame accepted or sent, header included. A larger request is answered with
    /// `ResourceExhausted` and the connection survives.
    pub max_frame_size: usize,
    /// Replies queued per connection before handlers wait for the socket (backpressure).
    pub write_queue: usize,
    /// Streams a client may have open at once on one connection, as HTTP/2's
    /// `SETTINGS_MAX_CONCURRENT_STREAMS` bounds gRPC's; one more is refused with
    /// `ResourceExhausted`, not run, and the connection survives.
    pub max_concurrent_streams: usize,
}

/// gRPC's server settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GrpcServerConfig {
    /// Largest message accepted or sent, its 5-byte prefix not counted. A larger request is
    /// answered `RESOURCE_EXHAUSTED` without being buffered.
    pub max_message_size: usize,
    /// Streams (calls) a client may have open at once on one connection (HTTP/2's
    /// `SETTINGS_MAX_CONCURRENT_STREAMS`).
    pub max_concurrent_streams: u32,
    /// Request bytes all of a connection's calls may have sent and the server not yet read
    /// (HTTP/2's connection flow-control window), and also what one call may (its stream's
    /// window): 4 MiB. At hyper's 1 MiB, four 1 MiB requests in flight went one at a time;
    /// and with the stream window left at 1 MiB, a 1 MiB message (a few bytes more with its
    /// prefix) waited a round trip for a `WINDOW_UPDATE` before its last bytes, which left the
    /// server idle 40 % of the time at 4 calls in flight. A peer fills either window only with
    /// bytes it really sends, the connection's bounds them all, and unread request bodies are
    /// given up after the idle timeout.
    pub connection_window: u32,
    /// The largest HTTP/2 frame accepted (`SETTINGS_MAX_FRAME_SIZE`): 256 KiB. A message up
    /// to this long arrives in one DATA frame and is used without joining pieces, and a
    /// client writes it in one go (h2 writes each DATA frame apart: at HTTP/2's 16 KiB a
    /// 64 KiB request took five writes). The decoder sets aside a whole frame's buffer as soon
    /// as its 9-byte header arrives, so this is also what any peer can make one connection
    /// hold for nothing.
    pub max_frame_size: u32,
    /// Compress replies with this when the caller's `grpc-accept-encoding` lists it;
    /// `None` (the default) answers uncompressed. Compressed requests are read either way.
    pub compression: Option<crate::compression::Compression>,
    /// Replies shorter than this go uncompressed (default 1 KiB).
    pub compression_threshold: usize,
}

/// The dubbo2 protocol's server settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DubboServerConfig {
    /// Largest body accepted or sent (Dubbo's `payload`, 8 MiB by default). A larger request
    /// is answered with status 40 without being buffered, and the connection survives.
    pub payload: usize,
    /// Replies queued per connection before handlers wait for the socket (backpressure).
    pub write_queue: usize,
}

impl Default for DubboServerConfig {
    fn default() -> Self {
        DubboServerConfig { payload: rpc_codec::dubbo::DEFAULT_PAYLOAD, write_queue: 1024 }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            idle_timeout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(30),
            write_timeout: Duration::from_secs(60),
            max_connections: 16_384,
            max_connections_per_ip: 2_048,
            binary: BinaryServerConfig::default(),
            tls: None,
            grpc: GrpcServerConfig::default(),
            dubbo: DubboServerConfig::default(),
        }
    }
}

impl Default for BinaryServerConfig {
    fn default() -> Self {
        BinaryServerConfig { max_frame_size: DEFAULT_MAX_FRAME_SIZE, write_queue: 1024, max_concurrent_streams: 1024 }
    }
}

impl Default for GrpcServerConfig {
    fn default() -> Self {
        GrpcServerConfig {
            max_message_size: DEFAULT_MAX_FRAME_SIZE,
            max_concurrent_streams: 1024,
            connection_window: 4 << 20,
            max_frame_size: 256 * 1024,
            compression: None,
            compression_threshold: crate::compression::DEFAULT_COMPRESSION_THRESHOLD,
        }
    }
}
