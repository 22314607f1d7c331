use bytes::{BufMut, Bytes, BytesMut};
use serde::{de::DeserializeOwned, Serialize};

use super::{decode_error, encode_error, Format, Serialization, SerializationId};
use crate::SerializationError;

/// MessagePack (rmp-serde). Structs are written as maps so fields can be added or reordered.
#[derive(Debug, Clone, Copy, Default)]
pub struct MsgPack;

impl Format for MsgPack {
    const ID: SerializationId = SerializationId::MsgPack;
}

impl<T: Serialize + DeserializeOwned> Serialization<T> for MsgPack {
    fn serialize(value: &T, dst: &mut BytesMut) -> Result<(), SerializationError> {
        let mut writer = dst.writer();
        value
            .serialize(&mut rmp_serde::Serializer::new(&mut writer).with_struct_map())
            .map_err(|e| encode_error(Self::ID, std::any::type_name::<T>(), e))
    }

    fn deserialize(src: &[u8]) -> Result<T, SerializationError> {
        rmp_serde::from_slice(src).map_err(|e| decode_error(Self::ID, std::any::type_name::<T>(), e))
    }

    /// Fields marked [`shared_bytes`](super::shared_bytes) become slices of `src`.
    fn deserialize_bytes(src: &Bytes) -> Result<T, SerializationError> {
        super::shared_bytes::decoding_from(src, || Self::deserialize(src))
    }
}
