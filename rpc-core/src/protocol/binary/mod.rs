//! The multiplexed binary protocol (docs/PROTOCOL.md): one connection carries many calls in
//! flight, matched by request id, and streams under a window of messages per direction.
//!
//! Only a write loop touches a socket's write half, so a caller that gives up mid-call can
//! never leave half a frame on the wire: cancellation drops a queued frame or a pending slot,
//! not bytes.

pub(crate) mod client;
mod frame_writer;
mod pending;
pub(crate) mod server;
mod stream;
mod write_loop;

use rpc_codec::MAGIC;

use super::Detection;

pub(crate) use frame_writer::FrameWriter;
pub(crate) use write_loop::{write_batch, write_loop};

/// Attachment on an error reply saying the provider did not run the request (it was going
/// away), with the reason as its value: the caller may send it elsewhere even if it is not
/// idempotent.
pub(crate) const NOT_RUN_ATTACHMENT: &str = "rpc.not-run";

/// Whether a connection's first bytes are the binary protocol's: its frames start with the
/// two-byte magic.
pub(crate) fn detect(prefix: &[u8]) -> Detection {
    let magic = MAGIC.to_be_bytes();
    match prefix {
        [] => Detection::NeedMore,
        [first] if *first == magic[0] => Detection::NeedMore,
        [first, second, ..] if [*first, *second] == magic => Detection::Match,
        _ => Detection::No,
    }
}
