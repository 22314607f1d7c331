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
//! control (see [`crate::streaming`]).

mod body;
mod client;
mod headers;
mod message;
mod reader;
mod server;

pub(crate) use client::GrpcConnection;
pub(crate) use server::serve_http2;
