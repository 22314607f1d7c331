//! Entry points for the fuzz targets (`fuzz/`): the decoders of what a peer sends that live
//! inside the runtime (gRPC's framing, timeouts, metadata and Triple's wrapper; protocol
//! detection). Not part of the API.

use bytes::Bytes;

use crate::protocol::grpc::{headers, message, wrapper};

/// Splits a gRPC body into messages as the server does, and reads each as Triple's request
/// and response wrappers.
pub fn grpc_body(body: &[u8]) {
    let mut body = Bytes::copy_from_slice(body);
    let _ = message::decode_unary(body.clone(), "fuzz");
    while let Ok(Some(message)) = message::next(&mut body, "fuzz") {
        let _ = wrapper::parse_request(&message);
        let _ = wrapper::parse_response(&message);
    }
}

/// Parses a `grpc-timeout` value.
pub fn grpc_timeout(value: &str) {
    if let Some(timeout) = headers::parse_timeout(value) {
        let _ = headers::format_timeout(timeout);
    }
}

/// Reads gRPC metadata (name, value pairs that HTTP accepts) as attachments, and the
/// status trailers.
pub fn grpc_metadata(pairs: &[(&[u8], &[u8])]) {
    let mut map = http::HeaderMap::new();
    for (name, value) in pairs {
        if let (Ok(name), Ok(value)) = (http::HeaderName::from_bytes(name), http::HeaderValue::from_bytes(value)) {
            map.append(name, value);
        }
    }
    let _ = headers::attachments_from(&map);
    let _ = headers::status_from(&map);
    let _ = headers::content_type(&map);
}

/// Tells a connection's protocol from its first bytes.
pub fn detect(prefix: &[u8]) {
    let _ = crate::protocol::classify(&prefix[..prefix.len().min(64)]);
}
