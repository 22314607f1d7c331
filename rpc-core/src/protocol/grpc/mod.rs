//! gRPC over HTTP/2 (Dubbo 3's "Triple"): the same services, reachable from any language's
//! gRPC client, and `rpc` clients that call existing gRPC servers.
//!
//! A call is `POST /{service}/{method}` with `content-type: application/grpc` (protobuf),
//! `application/grpc+json` or `application/grpc+msgpack`; the body is one length-prefixed
//! message; the reply ends with `grpc-status`/`grpc-message` trailers (or is trailers-only
//! for an error). `grpc-timeout` carries the deadline, custom metadata the attachments
//! (`-bin` keys base64), `tri-service-version`/`tri-service-group` the version and group.
//! Codes are gRPC's on both transports, so they map one to one. Streaming methods are gRPC
//! streams: messages are read as they arrive and sent as they are made, under HTTP/2 flow
//! control (see [`crate::streaming`]). Java Dubbo's wrapper mode for interface services is
//! understood too (`wrapper`), and `application/grpc+data` (Python Dubbo's own bytes).

mod body;
pub(crate) mod client;
pub(crate) mod compression;
pub(crate) mod headers;
pub(crate) mod message;
mod reader;
pub(crate) mod server;
pub(crate) mod wrapper;

use super::Detection;

/// HTTP/2's connection preface, which a client sends first (prior knowledge, h2c).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Whether a connection's first bytes are HTTP/2's preface. All 24 bytes are compared:
/// HTTP/1.1's `POST`, `PUT` and `PATCH` begin with the same `P`.
pub(crate) fn detect(prefix: &[u8]) -> Detection {
    let n = prefix.len().min(PREFACE.len());
    if prefix[..n] != PREFACE[..n] {
        Detection::No
    } else if n < PREFACE.len() {
        Detection::NeedMore
    } else {
        Detection::Match
    }
}
