//! Client connections: one [`Connection`] to one provider, in whichever protocol its
//! configuration names — the multiplexed binary protocol (one connection carries many calls
//! in flight, matched by request id) or gRPC over HTTP/2. The protocols themselves live in
//! `crate::protocol`; this module is the one place that chooses between them.

mod connection;

pub use crate::compression::{Compression, DEFAULT_COMPRESSION_THRESHOLD};
pub use crate::protocol::ConnectionConfig;
pub use crate::Protocol;
pub use connection::{Connection, ResponseFuture};
