//! The multiplexed binary protocol (docs/PROTOCOL.md): one connection carries many calls in
//! flight, matched by request id, and streams under a window of messages per direction. Its
//! framing is `rpc_codec`'s; the connection machinery is the multiplexed engine's
//! (`protocol::mux`).

pub(crate) mod client;
pub(crate) mod server;
mod stream;

use rpc_codec::MAGIC;

use super::{detect_magic, Detection};

/// Attachment on an error reply saying the provider did not run the request (it was going
/// away), with the reason as its value: the caller may send it elsewhere even if it is not
/// idempotent.
pub(crate) const NOT_RUN_ATTACHMENT: &str = "rpc.not-run";

/// Whether a connection's first bytes are the binary protocol's: its frames start with the
/// two-byte magic.
pub(crate) fn detect(prefix: &[u8]) -> Detection {
    detect_magic(prefix, MAGIC)
}
