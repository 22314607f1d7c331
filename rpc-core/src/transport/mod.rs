//! Client connections: the multiplexed binary protocol over TCP (one connection carries many
//! calls in flight, matched by request id) or gRPC over HTTP/2 (see [`crate::grpc`]).
//!
//! Only the write loop touches a socket's write half, so a caller that gives up mid-call can
//! never leave half a frame on the wire: cancellation drops a queued frame or a pending slot,
//! not bytes.

mod binary;
mod config;
mod connection;
mod frame_writer;
mod idle_timer;
mod pending;
pub(crate) mod stream;
mod write_loop;

pub use config::{ConnectionConfig, Protocol};
pub use connection::{Connection, ResponseFuture};
pub(crate) use frame_writer::FrameWriter;
pub(crate) use idle_timer::IdleTimer;
pub(crate) use write_loop::{write_batch, write_loop};

/// Attachment on an error reply saying the provider did not run the request (it was going
/// away), with the reason as its value: the caller may send it elsewhere even if it is not
/// idempotent.
pub(crate) const NOT_RUN_ATTACHMENT: &str = "rpc.not-run";
