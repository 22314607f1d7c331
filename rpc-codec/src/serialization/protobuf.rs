use bytes::{Bytes, BytesMut};

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

    fn deserialize_bytes(src: &Bytes) -> Result<T, SerializationError> {
        // From a `Bytes` source prost takes `bytes::Bytes` fields as slices: no copy.
        T::decode(src.clone()).map_err(|e| decode_error(Self::ID, std::any::type_name::<T>(), e))
    }
}

#[cfg(test)]
mod tests {
    use bytes::{Bytes, BytesMut};

    use super::Protobuf;
    use crate::Serialization;

    #[derive(Clone, PartialEq, prost::Message)]
    struct Blob {
        #[prost(bytes = "bytes", tag = "1")]
        data: Bytes,
    }

    #[test]
    fn bytes_fields_are_slices_of_the_body_not_copies() {
        let mut body = BytesMut::new();
        Protobuf::serialize(&Blob { data: Bytes::from(vec![9u8; 4096]) }, &mut body).unwrap();
        let body = body.freeze();
        let blob: Blob = Protobuf::deserialize_bytes(&body).unwrap();
        let range = body.as_ptr() as usize..body.as_ptr() as usize + body.len();
        assert!(range.contains(&(blob.data.as_ptr() as usize)), "the field was copied out of the body");
        assert_eq!(blob.data.len(), 4096);
    }
}
