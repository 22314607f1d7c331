//! Apache Dubbo's own protocol, `dubbo://` (dubbo2), with Hessian2 bodies: so Java, Go and
//! Python Dubbo consumers call our providers, and our consumers call theirs. The framing and
//! bodies are `rpc_codec::dubbo`'s; a provider runs it on the multiplexed connection engine
//! (`protocol::mux`) through the same router, layers, deadlines and shutdown as the others.
//!
//! How a dubbo call maps to ours (`call.rs`): the body's path, version and method address the
//! service, the `group` attachment its group, the `timeout` attachment (milliseconds) is the
//! deadline, and the other attachments travel as ours. Arguments stay one Hessian body, which
//! the generated server decodes as it decodes any serialization.

pub(crate) mod call;
pub(crate) mod client;
pub(crate) mod server;

use rpc_codec::dubbo::DUBBO_MAGIC;

use super::{detect_magic, Detection};

/// Whether a connection's first bytes are dubbo2's magic, `0xdabb`.
pub(crate) fn detect(prefix: &[u8]) -> Detection {
    detect_magic(prefix, DUBBO_MAGIC)
}
