//! Runtime choice of a format for a type that may implement only some of them, and the
//! compile-time check that a type implements at least one.
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

/// Compile-time check that a type can travel at all: `(&&WireProbe::<T>::new()).check_wire()`
/// resolves to [`ViaSerde`] when msgpack (so serde) carries `T`, else to [`ViaProtobuf`] when
/// protobuf (prost) does, else to [`ViaNeither`], whose method demands [`NoWireFormat`]: the
/// one error a user then sees names the type and what to derive. (Method lookup tries the
/// receiver `&&WireProbe` by value, then with one more reference, then `&WireProbe`: the
/// order of the three impls.) Generated code emits one check per argument and result type.
pub struct WireProbe<T>(PhantomData<fn() -> T>);

impl<T> WireProbe<T> {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        WireProbe(PhantomData)
    }
}

pub trait ViaSerde {
    fn check_wire(&self) {}
}

impl<T> ViaSerde for &WireProbe<T> where super::MsgPack: Serialization<T> {}

pub trait ViaProtobuf {
    fn check_wire(&self) {}
}

impl<T> ViaProtobuf for &&WireProbe<T> where super::Protobuf: Serialization<T> {}

pub trait ViaNeither<T> {
    fn check_wire(&self)
    where
        T: NoWireFormat,
    {
    }
}

impl<T> ViaNeither<T> for WireProbe<T> {}

/// Implemented by no type: what [`ViaNeither`] asks of a type no format carries.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an argument or result of an rpc method: no serialization carries it",
    label = "neither serde nor prost",
    note = "derive `serde::Serialize` and `serde::Deserialize` (msgpack, JSON) or `prost::Message` (protobuf)"
)]
pub trait NoWireFormat {}

/// The same check for one of several arguments, which travel together as a serde tuple:
/// [`ViaSerde`] or [`SerdeOnly`], whose method demands [`NotSerde`].
pub struct TupleProbe<T>(PhantomData<fn() -> T>);

impl<T> TupleProbe<T> {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        TupleProbe(PhantomData)
    }
}

impl<T> ViaSerde for &TupleProbe<T> where super::MsgPack: Serialization<T> {}

pub trait SerdeOnly<T> {
    fn check_wire(&self)
    where
        T: NotSerde,
    {
    }
}

impl<T> SerdeOnly<T> for TupleProbe<T> {}

/// Implemented by no type: what [`SerdeOnly`] asks of an argument serde does not carry.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be one of several arguments of an rpc method: they travel together as a serde tuple",
    label = "not serde",
    note = "derive `serde::Serialize` and `serde::Deserialize`, or make it the method's only argument (a prost message travels as protobuf alone)"
)]
pub trait NotSerde {}

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
