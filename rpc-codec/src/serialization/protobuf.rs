use bytes::BytesMut;

use super::{decode_error, encode_error, Format, Serialization, SerializationId};
use crate::SerializationError;

/// Protocol Buffers (prost): what gRPC peers in every language speak.
#[derive(Debug, Clone, Copy, Default)]
pub struct Protobuf;

impl Format for Protobuf {
    const ID: SerializationId = SerializationId::Protobuf;
}

impl<T: prost::Message + Default> Serialization<T> for Protobuf {
    fn serialize(value: &T, dst: &mut BytesMut) -> Result<(), SerializationError> {
        value.encode(dst).map_err(|e| encode_error(Self::ID, std::any::type_name::<T>(), e))
    }

    fn deserialize(src: &[u8]) -> Result<T, SerializationError> {
        T::decode(src).map_err(|e| decode_error(Self::ID, std::any::type_name::<T>(), e))
    }
}
