//! Client connections: one [`Connection`] to one provider, in whichever protocol its
//! configuration names — the multiplexed binary protocol (one connection carries many calls
//! in flight, matched by request id) or gRPC over HTTP/2. The protocols themselves live in
//! `crate::protocol`; this module is the one place that chooses between them.

mod config;
mod connection;
mod protocol_connection;

pub use config::{ConnectionConfig, Protocol};
pub use connection::{Connection, ResponseFuture};
pub(crate) use protocol_connection::ProtocolConnection;
