//! What every multiplexed protocol (many calls in flight on one connection, matched by
//! request id) shares: the server's connection engine ([`server::serve`], driven by a
//! protocol's [`MuxServer`]), reads ([`FrameReader`]), batched writes ([`FrameWriter`],
//! [`write_loop`]), the reused call slot, and the client's table of calls awaiting replies
//! ([`Pending`]). The binary protocol is built on it; each piece is generic over the
//! protocol's frame and codec.
//!
//! Only a write loop (client) or the connection task (server) touches a socket's write
//! half, so a caller that gives up mid-call can never leave half a frame on the wire:
//! cancellation drops a queued frame or a pending slot, not bytes.

mod call_slot;
mod frame_reader;
mod frame_writer;
mod pending;
mod reply_queue;
pub(crate) mod server;
mod write_guard;
mod write_loop;

pub(crate) use call_slot::CallSlot;
pub(crate) use frame_reader::FrameReader;
pub(crate) use frame_writer::FrameWriter;
pub(crate) use pending::{Pending, PendingCall, STREAM_ID_BASE};
pub(crate) use reply_queue::ReplyQueue;
pub(crate) use server::{Handled, MuxServer};
pub(crate) use write_guard::WriteGuard;
pub(crate) use write_loop::{spawn_write_loop, write_batch};
