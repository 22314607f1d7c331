use std::time::Duration;

use rpc_codec::DEFAULT_MAX_FRAME_SIZE;

/// Settings of a server's connections.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest frame accepted or sent, header included. A larger request is answered with
    /// `ResourceExhausted` and the connection survives.
    pub max_frame_size: usize,
    /// A connection with no inbound frame (heartbeats count) for this long is closed; the
    /// check is lazy, so it closes within one to two of these periods.
    pub idle_timeout: Duration,
    /// On shutdown, how long in-flight calls may take to finish before connections are cut.
    pub shutdown_grace: Duration,
    /// Replies queued per connection before handlers wait for the socket (backpressure).
    pub write_queue: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            idle_timeout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(30),
            write_queue: 1024,
        }
    }
}
