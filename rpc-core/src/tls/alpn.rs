//! The ALPN ids that say, inside TLS, which protocol a connection speaks.

use crate::Protocol;

/// HTTP/2: gRPC and Triple.
pub(crate) const H2: &[u8] = b"h2";
/// HTTP/1.1: Triple's REST form, curl and browsers.
pub(crate) const HTTP_1_1: &[u8] = b"http/1.1";
/// The multiplexed binary protocol (an id of ours; no registry assigns one).
pub(crate) const BINARY: &[u8] = b"rpc-binary";

/// What a server offers, most preferred first: a client offering both HTTP versions (a
/// Triple client does) is served HTTP/2. dubbo2 has no id; its clients offer none, and the
/// server tells it from its first bytes.
pub(crate) fn server_protocols() -> Vec<Vec<u8>> {
    vec![H2.to_vec(), BINARY.to_vec(), HTTP_1_1.to_vec()]
}

/// What a client connecting in `protocol` offers.
pub(crate) fn client_protocols(protocol: Protocol) -> Vec<Vec<u8>> {
    match protocol {
        Protocol::Binary => vec![BINARY.to_vec()],
        Protocol::Grpc => vec![H2.to_vec()],
        Protocol::Rest => vec![HTTP_1_1.to_vec()],
        Protocol::Dubbo => Vec::new(),
    }
}

/// The protocol an agreed ALPN id names; `None` for none agreed (dubbo2, or a client that
/// offered nothing), to be told from the first bytes.
pub(crate) fn protocol_of(id: Option<&[u8]>) -> Option<Protocol> {
    match id? {
        H2 => Some(Protocol::Grpc),
        HTTP_1_1 => Some(Protocol::Rest),
        BINARY => Some(Protocol::Binary),
        _ => None,
    }
}
