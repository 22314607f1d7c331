//! The echoed message, the same for every system: one `bytes` field.

use bytes::Bytes;

/// A protobuf message (for tonic and our protobuf serialization) that serde writes as a
/// msgpack/bincode byte string rather than a list of numbers.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
pub struct Payload {
    #[prost(bytes = "bytes", tag = "1")]
    pub data: Bytes,
}
