//! Re-encoding a body from one serde format to another without knowing its Rust type
//! (`serde-transcode` drives one format's deserializer into the other's serializer). A dubbo2
//! provider reads Hessian2 only; with this a call made in msgpack or JSON reaches it, and its
//! reply comes back in the caller's format. Structs cross as maps of their fields, which
//! every reader here (and Java's Hessian) reads back into the struct.

use bytes::{BufMut, BytesMut};
use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeTuple, Serializer};
use serde_transcode::Transcoder;

use super::hessian::{Decoder, Encoder};
use super::SerializationId;
use crate::SerializationError;

/// A call's arguments (`arity` of them: `()`, the value, or a tuple) in `to` instead of `from`.
///
/// ```
/// # mod rpc { pub mod codec { pub use rpc_codec::*; } }
/// use bytes::BytesMut;
/// use rpc::codec::serialization::transcode_arguments;
/// use rpc::codec::{Hessian2, MsgPack, Serialization, SerializationId};
///
/// let mut msgpack = BytesMut::new();
/// MsgPack::serialize(&("world".to_string(), 3), &mut msgpack).unwrap();
/// let hessian = transcode_arguments(SerializationId::MsgPack, SerializationId::Hessian2, &msgpack, 2).unwrap();
/// assert_eq!(&hessian[..], b"\x05world\x93"); // two values, one after another
/// let back: (String, i32) = Hessian2::deserialize(&hessian).unwrap();
/// assert_eq!(back, ("world".to_string(), 3));
/// ```
pub fn transcode_arguments(
    from: SerializationId,
    to: SerializationId,
    body: &[u8],
    arity: usize,
) -> Result<BytesMut, SerializationError> {
    transcode(from, to, body, Some(arity))
}

/// One value in `to` instead of `from`.
pub fn transcode_value(
    from: SerializationId,
    to: SerializationId,
    body: &[u8],
) -> Result<BytesMut, SerializationError> {
    transcode(from, to, body, None)
}

/// Runs `$e` with `$source` a deserializer of `$from` over `$body`, then checks that it read
/// the whole body.
macro_rules! with_source {
    ($from:expr, $body:expr, $source:ident => $e:expr) => {
        match $from {
            SerializationId::MsgPack => {
                let mut de = rmp_serde::Deserializer::from_read_ref($body);
                let $source = &mut de;
                $e
            }
            SerializationId::Json => {
                let mut de = serde_json::Deserializer::from_slice($body);
                let driven = {
                    let $source = &mut de;
                    $e
                };
                driven.and_then(|()| de.end().map_err(|e| e.to_string()))
            }
            SerializationId::Hessian2 => {
                let mut de = Decoder::new($body);
                de.expect_body();
                let driven = {
                    let $source = &mut de;
                    $e
                };
                driven.and_then(|()| if de.is_at_end() { Ok(()) } else { Err("bytes after the value".to_string()) })
            }
            SerializationId::Protobuf => Err(NOT_SERDE.to_string()),
        }
    };
}

/// Runs `$e` with `$sink` a serializer of `$to` appending to `$out` (Hessian2 at a body's top
/// level, where a tuple is an argument list).
macro_rules! with_sink {
    ($to:expr, $out:expr, $sink:ident => $e:expr) => {
        match $to {
            SerializationId::MsgPack => {
                let mut writer = $out.writer();
                let mut serializer = rmp_serde::Serializer::new(&mut writer).with_struct_map();
                let $sink = &mut serializer;
                $e
            }
            SerializationId::Json => {
                let mut serializer = serde_json::Serializer::new($out.writer());
                let $sink = &mut serializer;
                $e
            }
            SerializationId::Hessian2 => {
                let mut encoder = Encoder::new(std::mem::take($out));
                encoder.expect_body();
                let driven = {
                    let $sink = &mut encoder;
                    $e
                };
                *$out = encoder.into_inner();
                driven
            }
            SerializationId::Protobuf => Err(NOT_SERDE.to_string()),
        }
    };
}

const NOT_SERDE: &str = "protobuf bodies cannot be re-encoded without their type";

fn transcode(
    from: SerializationId,
    to: SerializationId,
    body: &[u8],
    arity: Option<usize>,
) -> Result<BytesMut, SerializationError> {
    let mut out = BytesMut::new();
    let out = &mut out;
    let driven = match arity {
        // No arguments: `()` in the target format, whatever was sent.
        Some(0) => {
            with_sink!(to, out, sink => serde::Serialize::serialize(&(), sink).map(drop).map_err(|e| e.to_string()))
        }
        Some(len) if len > 1 => {
            with_source!(from, body, source => with_sink!(to, out, sink => tuple(source, sink, len)))
        }
        _ => with_source!(from, body, source => with_sink!(to, out, sink => value(source, sink))),
    };
    driven.map_err(|reason| SerializationError::Decode {
        format: from.name(),
        type_name: "a body re-encoded as another format",
        reason,
    })?;
    Ok(std::mem::take(out))
}

fn value<'de, D: Deserializer<'de>, S: Serializer>(source: D, sink: S) -> Result<(), String> {
    serde_transcode::transcode(source, sink).map(drop).map_err(|e| e.to_string())
}

fn tuple<'de, D: Deserializer<'de>, S: Serializer>(source: D, sink: S, len: usize) -> Result<(), String> {
    source.deserialize_tuple(len, Elements { sink, len }).map_err(|e| e.to_string())
}

/// Reads a sequence of `len` values, writing each into a tuple of the sink.
struct Elements<S> {
    sink: S,
    len: usize,
}

impl<'de, S: Serializer> Visitor<'de> for Elements<S> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "an argument list of {}", self.len)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let len = self.len;
        let mut tuple = self.sink.serialize_tuple(len).map_err(de::Error::custom)?;
        let mut count = 0;
        while seq.next_element_seed(Element { tuple: &mut tuple })?.is_some() {
            count += 1;
        }
        if count != len {
            return Err(de::Error::custom(format!("{count} arguments where {len} were expected")));
        }
        tuple.end().map(drop).map_err(de::Error::custom)
    }
}

struct Element<'t, T> {
    tuple: &'t mut T,
}

impl<'de, T: SerializeTuple> DeserializeSeed<'de> for Element<'_, T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.tuple.serialize_element(&Transcoder::new(deserializer)).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::{Hessian2, Json, MsgPack, Serialization};

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    #[serde(rename = "org.example.User")]
    struct User {
        name: String,
        tags: Vec<String>,
        scores: HashMap<String, i64>,
        avatar: Option<Vec<u8>>,
    }

    fn user() -> User {
        User { name: "ann".into(), tags: vec!["a".into()], scores: [("x".into(), 1)].into(), avatar: None }
    }

    #[test]
    fn arguments_cross_every_serde_format_and_back() {
        let args = (user(), 7i64, "x".to_string());
        let mut msgpack = BytesMut::new();
        MsgPack::serialize(&args, &mut msgpack).unwrap();
        let hessian = transcode_arguments(SerializationId::MsgPack, SerializationId::Hessian2, &msgpack, 3).unwrap();
        let read: (User, i64, String) = Hessian2::deserialize(&hessian).unwrap();
        assert_eq!(read, args);
        let json = transcode_arguments(SerializationId::Hessian2, SerializationId::Json, &hessian, 3).unwrap();
        let read: (User, i64, String) = Json::deserialize(&json).unwrap();
        assert_eq!(read, args);
        // One argument is the bare value; none is `()`.
        let mut one = BytesMut::new();
        MsgPack::serialize(&user(), &mut one).unwrap();
        let hessian = transcode_arguments(SerializationId::MsgPack, SerializationId::Hessian2, &one, 1).unwrap();
        assert_eq!(<Hessian2 as Serialization<User>>::deserialize(&hessian).unwrap(), user());
        assert!(transcode_arguments(SerializationId::MsgPack, SerializationId::Hessian2, b"\xc0", 0)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn values_come_back_in_the_callers_format() {
        let mut hessian = BytesMut::new();
        Hessian2::serialize(&user(), &mut hessian).unwrap();
        let msgpack = transcode_value(SerializationId::Hessian2, SerializationId::MsgPack, &hessian).unwrap();
        assert_eq!(<MsgPack as Serialization<User>>::deserialize(&msgpack).unwrap(), user());
        let null = transcode_value(SerializationId::Hessian2, SerializationId::MsgPack, b"N").unwrap();
        assert_eq!(<MsgPack as Serialization<Option<String>>>::deserialize(&null).unwrap(), None);
        assert!(transcode_value(SerializationId::Hessian2, SerializationId::MsgPack, b"\x01a\x01b").is_err());
        assert!(transcode_value(SerializationId::Protobuf, SerializationId::MsgPack, b"").is_err());
    }
}
