//! The echoed message, the same for every system: one `bytes` field.

use bytes::Bytes;

/// A protobuf message (for tonic and our protobuf serialization) that serde writes as a
/// msgpack/bincode byte string rather than a list of numbers. Decoded by `rpc` from msgpack,
/// the field is a slice of the received body, as prost makes it from protobuf
/// (`shared_bytes`); bincode (tarpc) copies it, as it would without the attribute.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
pub struct Payload {
    #[prost(bytes = "bytes", tag = "1")]
    #[serde(with = "rpc::codec::shared_bytes")]
    pub data: Bytes,
}
