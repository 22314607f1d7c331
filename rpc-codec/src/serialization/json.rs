use bytes::{BufMut, BytesMut};
use serde::{de::DeserializeOwned, Serialize};

use super::{decode_error, encode_error, Format, Serialization, SerializationId};
use crate::SerializationError;

/// JSON (serde_json): readable on the wire, and what gRPC's `application/grpc+json` carries.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

impl Format for Json {
    const ID: SerializationId = SerializationId::Json;
}

impl<T: Serialize + DeserializeOwned> Serialization<T> for Json {
    fn serialize(value: &T, dst: &mut BytesMut) -> Result<(), SerializationError> {
        serde_json::to_writer(dst.writer(), value).map_err(|e| encode_error(Self::ID, std::any::type_name::<T>(), e))
    }

    fn deserialize(src: &[u8]) -> Result<T, SerializationError> {
        serde_json::from_slice(src).map_err(|e| decode_error(Self::ID, std::any::type_name::<T>(), e))
    }
}
