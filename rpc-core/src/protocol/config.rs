use std::time::Duration;

use rpc_codec::DEFAULT_MAX_FRAME_SIZE;

use crate::compression::{Compression, DEFAULT_COMPRESSION_THRESHOLD};
use crate::tls::ClientTls;
use crate::Protocol;

/// Settings of one client connection, whichever its protocol.
#[derive(Debug, Clone)]
pub struct ConnectionConfig {
    /// Give up connecting after this long.
    pub connect_timeout: Duration,
    /// Send a heartbeat after this long without outbound frames; a peer silent for three
    /// intervals is presumed dead and the connection closed. `None` disables both.
    pub heartbeat_interval: Option<Duration>,
    /// Largest frame sent or accepted, header included.
    pub max_frame_size: usize,
    /// Frames queued for the write loop before callers wait (backpressure).
    pub write_queue: usize,
    /// The wire protocol to speak.
    pub protocol: Protocol,
    /// Connect over TLS with these settings; `None` connects in plaintext (unless the
    /// provider's registration says `ssl-enabled=true`, which connects over TLS verified
    /// against the system's roots).
    pub tls: Option<ClientTls>,
    /// gRPC: compress requests with this (`grpc-encoding`), and tell the provider it may
    /// compress replies with it; `None` sends uncompressed. Compressed replies are read
    /// whatever this says.
    pub grpc_compression: Option<Compression>,
    /// gRPC: messages shorter than this go uncompressed (default 1 KiB).
    pub grpc_compression_threshold: usize,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            connect_timeout: Duration::from_secs(3),
            heartbeat_interval: Some(Duration::from_secs(15)),
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            write_queue: 1024,
            protocol: Protocol::Binary,
            tls: None,
            grpc_compression: None,
            grpc_compression_threshold: DEFAULT_COMPRESSION_THRESHOLD,
        }
    }
}
