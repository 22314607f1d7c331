//! Entry points for the fuzz targets (`fuzz/`): the decoders of what a peer sends that live
//! inside the runtime (gRPC's framing, timeouts, metadata and Triple's wrapper; protocol
//! detection). Not part of the API.

use bytes::Bytes;

use crate::compression::Compression;
use crate::protocol::grpc::compression::Encoding;
use crate::protocol::grpc::{headers, message, wrapper};

/// Splits a gRPC body into messages as the server does (whole, and in two chunks, which must
/// agree), inflating those flagged compressed as gzip or zstd (the body's first byte picks
/// which), and reads each as Triple's request and response wrappers.
pub fn grpc_body(body: &[u8]) {
    let compression = if body.first().is_some_and(|b| b & 0x80 != 0) { Compression::Zstd } else { Compression::Gzip };
    let reading = message::Reading { encoding: Encoding::Compressed(compression), limit: 1 << 20 };
    let mut body = Bytes::copy_from_slice(body);
    let whole = message::decode_unary(body.clone(), "fuzz", reading);
    // As DATA frames: the first five bytes apart (as a long message is sent), the rest after.
    let split = body.len().min(message::PREFIX_LEN);
    let chunks = vec![body.slice(..split), body.slice(split..)];
    let chunked = message::decode_unary_chunks(chunks, "fuzz", reading);
    assert_eq!(whole.ok(), chunked.ok(), "a body decodes the same whatever its chunks");
    while let Ok(Some((_, message))) = message::next(&mut body, "fuzz") {
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

/// The fuzz targets' entry points on random input in the normal suite (proptest), so a
/// decoder that stops being total fails `cargo test` too, not only a fuzzing run.
#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn grpc_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            super::grpc_body(&body);
        }

        #[test]
        fn grpc_bodies_with_a_valid_frame_header_never_panic(
            compressed in 0u8..3,
            payload in proptest::collection::vec(any::<u8>(), 0..256),
            announced_extra in 0u32..8,
        ) {
            // A well-formed length prefix, so the wrapper parsers see the payload.
            let mut body = vec![compressed];
            body.extend_from_slice(&(payload.len() as u32 + announced_extra).to_be_bytes());
            body.extend_from_slice(&payload);
            super::grpc_body(&body);
        }

        #[test]
        fn grpc_timeouts_never_panic(value in "\\PC{0,12}", digits in "[0-9]{0,10}[HMSmun]?") {
            super::grpc_timeout(&value);
            super::grpc_timeout(&digits);
        }

        #[test]
        fn grpc_metadata_never_panics(
            pairs in proptest::collection::vec(
                (prop_oneof![Just(b"grpc-status".to_vec()), Just(b"grpc-message".to_vec()),
                             Just(b"content-type".to_vec()), "[a-z-]{1,12}".prop_map(String::into_bytes)],
                 proptest::collection::vec(any::<u8>(), 0..24)),
                0..8,
            ),
        ) {
            let pairs: Vec<(&[u8], &[u8])> = pairs.iter().map(|(n, v)| (n.as_slice(), v.as_slice())).collect();
            super::grpc_metadata(&pairs);
        }

        #[test]
        fn protocol_detection_never_panics(prefix in proptest::collection::vec(any::<u8>(), 0..96)) {
            super::detect(&prefix);
        }
    }
}
