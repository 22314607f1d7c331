//! Runtime choice of a format for a type that may implement only some of them.
//!
//! Autoref dispatch: for `(&Probe::<F, T>::new()).serialize(..)`, method lookup tries
//! `Supported` (implemented for `Probe<F, T>` when `F: Serialization<T>`) before `Unsupported`
//! (implemented for `&Probe<F, T>`, one reference further). So a type that implements only
//! serde still compiles against the protobuf branch, which then answers
//! [`SerializationError::Unsupported`]. The choice is made where `T` is concrete, which is
//! why generated code calls it through the `__serialize!` / `__deserialize!` macros.

use std::marker::PhantomData;

use bytes::{Bytes, BytesMut};

use super::{Format, Serialization};
use crate::SerializationError;

pub struct Probe<F, T>(PhantomData<fn() -> (F, T)>);

impl<F, T> Probe<F, T> {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Probe(PhantomData)
    }
}

pub trait Supported<T> {
    fn serialize(&self, value: &T, dst: &mut BytesMut) -> Result<(), SerializationError>;
    fn deserialize_bytes(&self, src: &Bytes) -> Result<T, SerializationError>;
}

impl<F: Serialization<T>, T> Supported<T> for Probe<F, T> {
    fn serialize(&self, value: &T, dst: &mut BytesMut) -> Result<(), SerializationError> {
        F::serialize(value, dst)
    }
    fn deserialize_bytes(&self, src: &Bytes) -> Result<T, SerializationError> {
        F::deserialize_bytes(src)
    }
}

pub trait Unsupported<T> {
    fn serialize(&self, value: &T, dst: &mut BytesMut) -> Result<(), SerializationError>;
    fn deserialize_bytes(&self, src: &Bytes) -> Result<T, SerializationError>;
}

impl<F: Format, T> Unsupported<T> for &Probe<F, T> {
    fn serialize(&self, _: &T, _: &mut BytesMut) -> Result<(), SerializationError> {
        Err(unsupported::<F, T>())
    }
    fn deserialize_bytes(&self, _: &Bytes) -> Result<T, SerializationError> {
        Err(unsupported::<F, T>())
    }
}

fn unsupported<F: Format, T>() -> SerializationError {
    SerializationError::Unsupported { format: F::ID.name(), type_name: std::any::type_name::<T>() }
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;

    use crate::{SerializationError, SerializationId};

    #[derive(Clone, PartialEq, prost::Message)]
    struct ProtoOnly {
        #[prost(string, tag = "1")]
        name: String,
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct SerdeOnly {
        name: String,
    }

    #[test]
    fn each_type_uses_the_formats_it_implements() {
        let mut buf = BytesMut::new();
        let value = ProtoOnly { name: "x".into() };
        crate::__serialize!(SerializationId::Protobuf, ProtoOnly, &value, &mut buf).unwrap();
        let back = crate::__deserialize!(SerializationId::Protobuf, ProtoOnly, &buf.clone().freeze()).unwrap();
        assert_eq!(back, value);
        let err = crate::__serialize!(SerializationId::MsgPack, ProtoOnly, &value, &mut buf).unwrap_err();
        assert!(matches!(err, SerializationError::Unsupported { format: "msgpack", .. }));

        let mut buf = BytesMut::new();
        let value = SerdeOnly { name: "y".into() };
        crate::__serialize!(SerializationId::Json, SerdeOnly, &value, &mut buf).unwrap();
        assert_eq!(&buf[..], br#"{"name":"y"}"#);
        let err = crate::__deserialize!(SerializationId::Protobuf, SerdeOnly, &buf.freeze()).unwrap_err();
        assert!(matches!(err, SerializationError::Unsupported { format: "protobuf", .. }));
    }

    #[test]
    fn strings_travel_as_protobuf_wrappers() {
        let mut buf = BytesMut::new();
        crate::__serialize!(SerializationId::Protobuf, String, &"hi".to_string(), &mut buf).unwrap();
        assert_eq!(&buf[..], &[0x0a, 2, b'h', b'i']);
    }
}
