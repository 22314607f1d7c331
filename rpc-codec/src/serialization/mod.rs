//! Serializations: how a value becomes a body. Chosen per call by a one-byte id in the header.
//!
//! [`Serialization<T>`] says a format can carry values of type `T`: msgpack and JSON carry
//! every serde type, protobuf every `prost::Message` (including the well-known wrappers prost
//! implements for `String`, integers, `bool`, `Vec<u8>` and `()`).
//!
//! ```
//! # mod rpc { pub mod codec { pub use rpc_codec::*; } }
//! use bytes::{Bytes, BytesMut};
//! use rpc::codec::{Json, MsgPack, Serialization};
//!
//! let mut body = BytesMut::new();
//! <MsgPack as Serialization<(String, u32)>>::serialize(&("ada".to_string(), 36), &mut body).unwrap();
//! let back: (String, u32) = MsgPack::deserialize(&body).unwrap();
//! assert_eq!(back, ("ada".to_string(), 36));
//!
//! let mut json = BytesMut::new();
//! Json::serialize(&vec![1, 2, 3], &mut json).unwrap();
//! assert_eq!(&json[..], b"[1,2,3]");
//! ```

pub mod hessian;
mod json;
mod msgpack;
#[doc(hidden)]
pub mod probe;
mod protobuf;
pub mod shared_bytes;
mod transcode;

use bytes::{Bytes, BytesMut};

pub use hessian::Hessian2;
pub use json::Json;
pub use msgpack::MsgPack;
pub use protobuf::Protobuf;
pub use transcode::{transcode_arguments, transcode_value};

use crate::SerializationError;

/// The serialization id carried in every frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum SerializationId {
    /// MessagePack via rmp-serde, structs as maps (field names kept): the default.
    #[default]
    MsgPack = 1,
    /// JSON via serde_json.
    Json = 2,
    /// Protocol Buffers via prost.
    Protobuf = 3,
    /// Hessian 2.0 as Apache Dubbo writes it (see [`hessian`]).
    Hessian2 = 4,
}

impl SerializationId {
    /// The format's name: `msgpack`, `json`, `protobuf`.
    pub const fn name(self) -> &'static str {
        match self {
            SerializationId::MsgPack => "msgpack",
            SerializationId::Json => "json",
            SerializationId::Protobuf => "protobuf",
            SerializationId::Hessian2 => "hessian2",
        }
    }
}

impl TryFrom<u8> for SerializationId {
    type Error = SerializationError;
    fn try_from(id: u8) -> Result<Self, SerializationError> {
        match id {
            1 => Ok(SerializationId::MsgPack),
            2 => Ok(SerializationId::Json),
            3 => Ok(SerializationId::Protobuf),
            4 => Ok(SerializationId::Hessian2),
            other => Err(SerializationError::UnknownId(other)),
        }
    }
}

impl std::fmt::Display for SerializationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A wire format, independent of the types it carries.
pub trait Format {
    /// The id this format has on the wire.
    const ID: SerializationId;
}

/// A format that can carry values of type `T`.
pub trait Serialization<T>: Format {
    /// Appends the encoding of `value` to `dst`.
    fn serialize(value: &T, dst: &mut BytesMut) -> Result<(), SerializationError>;
    /// Decodes a whole body. Total: bad bytes give an error, never a panic.
    fn deserialize(src: &[u8]) -> Result<T, SerializationError>;

    /// Decodes a body held in shared memory; a format may then keep byte fields as slices of
    /// it instead of copying them (protobuf does, for `bytes = "bytes"` fields).
    fn deserialize_bytes(src: &Bytes) -> Result<T, SerializationError> {
        Self::deserialize(src)
    }
}

fn encode_error(format: SerializationId, type_name: &'static str, reason: impl ToString) -> SerializationError {
    SerializationError::Encode { format: format.name(), type_name, reason: reason.to_string() }
}

fn decode_error(format: SerializationId, type_name: &'static str, reason: impl ToString) -> SerializationError {
    SerializationError::Decode { format: format.name(), type_name, reason: reason.to_string() }
}

/// Serializes `$value: &$ty` into `$dst: &mut BytesMut` with the format named by the runtime
/// id `$id`, using whichever of serde or prost `$ty` implements. `$ty` must be a concrete type
/// (the dispatch is resolved where the macro expands); generated code calls this.
#[doc(hidden)]
#[macro_export]
macro_rules! __serialize {
    ($id:expr, $ty:ty, $value:expr, $dst:expr) => {{
        use $crate::serialization::probe::Probe;
        #[allow(unused_imports)]
        use $crate::serialization::probe::{Supported as _, Unsupported as _};
        match $id {
            $crate::SerializationId::MsgPack => (&Probe::<$crate::MsgPack, $ty>::new()).serialize($value, $dst),
            $crate::SerializationId::Json => (&Probe::<$crate::Json, $ty>::new()).serialize($value, $dst),
            $crate::SerializationId::Protobuf => (&Probe::<$crate::Protobuf, $ty>::new()).serialize($value, $dst),
            $crate::SerializationId::Hessian2 => (&Probe::<$crate::Hessian2, $ty>::new()).serialize($value, $dst),
        }
    }};
}

/// Deserializes a `$ty` from `$src: &Bytes` with the format named by the runtime id `$id`.
#[doc(hidden)]
#[macro_export]
macro_rules! __deserialize {
    ($id:expr, $ty:ty, $src:expr) => {{
        use $crate::serialization::probe::Probe;
        #[allow(unused_imports)]
        use $crate::serialization::probe::{Supported as _, Unsupported as _};
        match $id {
            $crate::SerializationId::MsgPack => (&Probe::<$crate::MsgPack, $ty>::new()).deserialize_bytes($src),
            $crate::SerializationId::Json => (&Probe::<$crate::Json, $ty>::new()).deserialize_bytes($src),
            $crate::SerializationId::Protobuf => (&Probe::<$crate::Protobuf, $ty>::new()).deserialize_bytes($src),
            $crate::SerializationId::Hessian2 => (&Probe::<$crate::Hessian2, $ty>::new()).deserialize_bytes($src),
        }
    }};
}
