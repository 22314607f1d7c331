//! Every serialization round-trips every kind of argument it supports.

use std::collections::{BTreeMap, HashMap};

use bytes::BytesMut;
use proptest::strategy::Strategy;
use rpc_codec::{Hessian2, Json, MsgPack, Protobuf, Serialization, SerializationError, SerializationId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Shape {
    Unit,
    Circle(f64),
    Rect { w: u32, h: u32 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Everything {
    flag: bool,
    small: i8,
    big: u64,
    negative: i64,
    float: f64,
    text: String,
    #[serde(with = "serde_bytes_compat")]
    blob: Vec<u8>,
    list: Vec<u32>,
    map: BTreeMap<String, i32>,
    optional: Option<Box<Everything>>,
    shapes: Vec<Shape>,
    tuple: (u8, String, char),
}

/// Bytes as a byte string in msgpack (bin type) rather than an array of numbers.
mod serde_bytes_compat {
    use serde::{Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
                let mut out = Vec::new();
                while let Some(b) = seq.next_element()? {
                    out.push(b);
                }
                Ok(out)
            }
        }
        d.deserialize_bytes(V)
    }
}

fn sample() -> Everything {
    let inner = Everything {
        flag: false,
        small: -3,
        big: 1,
        negative: -1,
        float: 0.5,
        text: String::new(),
        blob: vec![],
        list: vec![],
        map: BTreeMap::new(),
        optional: None,
        shapes: vec![Shape::Unit],
        tuple: (0, String::new(), 'x'),
    };
    Everything {
        flag: true,
        small: i8::MIN,
        big: u64::MAX,
        negative: i64::MIN,
        float: -1.25e300,
        text: "héllo, 世界 🌍".into(),
        blob: (0..=255).collect(),
        list: vec![1, 2, 3, u32::MAX],
        map: [("a".to_string(), 1), ("b".to_string(), -2)].into_iter().collect(),
        optional: Some(Box::new(inner)),
        shapes: vec![Shape::Unit, Shape::Circle(2.5), Shape::Rect { w: 3, h: 4 }],
        tuple: (7, "seven".into(), 'λ'),
    }
}

fn serde_round_trip<F, T>(value: &T) -> T
where
    F: Serialization<T>,
{
    let mut buf = BytesMut::new();
    F::serialize(value, &mut buf).unwrap();
    F::deserialize(&buf).unwrap()
}

macro_rules! serde_kinds {
    ($format:ty) => {{
        assert_eq!(serde_round_trip::<$format, _>(&()), ());
        assert_eq!(serde_round_trip::<$format, _>(&true), true);
        assert_eq!(serde_round_trip::<$format, _>(&u64::MAX), u64::MAX);
        assert_eq!(serde_round_trip::<$format, _>(&i32::MIN), i32::MIN);
        assert_eq!(serde_round_trip::<$format, _>(&3.5f32), 3.5f32);
        assert_eq!(serde_round_trip::<$format, _>(&"text".to_string()), "text");
        assert_eq!(serde_round_trip::<$format, _>(&Some(5u8)), Some(5u8));
        assert_eq!(serde_round_trip::<$format, _>(&None::<u8>), None);
        assert_eq!(serde_round_trip::<$format, _>(&vec!["a".to_string(), "b".to_string()]), vec!["a", "b"]);
        let map: HashMap<String, Vec<u16>> = [("k".to_string(), vec![1, 2])].into_iter().collect();
        assert_eq!(serde_round_trip::<$format, _>(&map), map);
        let args = ("name".to_string(), 42u64, Shape::Rect { w: 1, h: 2 });
        assert_eq!(serde_round_trip::<$format, _>(&args), args);
        assert_eq!(serde_round_trip::<$format, _>(&sample()), sample());
    }};
}

#[test]
fn msgpack_round_trips_every_kind() {
    serde_kinds!(MsgPack);
}

#[test]
fn json_round_trips_every_kind() {
    serde_kinds!(Json);
}

#[test]
fn hessian2_round_trips_every_kind_java_has() {
    // Java has no unsigned 64-bit integer: u64 travels up to i64::MAX.
    let fits_java = |mut value: Everything| {
        value.big = i64::MAX as u64;
        if let Some(inner) = &mut value.optional {
            inner.big = 1;
        }
        value
    };
    assert_eq!(serde_round_trip::<Hessian2, _>(&()), ());
    assert!(serde_round_trip::<Hessian2, _>(&true));
    assert_eq!(serde_round_trip::<Hessian2, _>(&(i64::MAX as u64)), i64::MAX as u64);
    assert_eq!(serde_round_trip::<Hessian2, _>(&i32::MIN), i32::MIN);
    assert_eq!(serde_round_trip::<Hessian2, _>(&3.5f32), 3.5f32);
    assert_eq!(serde_round_trip::<Hessian2, _>(&"text".to_string()), "text");
    assert_eq!(serde_round_trip::<Hessian2, _>(&Some(5u8)), Some(5u8));
    assert_eq!(serde_round_trip::<Hessian2, _>(&None::<u8>), None);
    assert_eq!(serde_round_trip::<Hessian2, _>(&vec!["a".to_string(), "b".to_string()]), vec!["a", "b"]);
    let map: HashMap<String, Vec<u16>> = [("k".to_string(), vec![1, 2])].into_iter().collect();
    assert_eq!(serde_round_trip::<Hessian2, _>(&map), map);
    let args = ("name".to_string(), 42u64, Shape::Rect { w: 1, h: 2 });
    assert_eq!(serde_round_trip::<Hessian2, _>(&args), args);
    assert_eq!(serde_round_trip::<Hessian2, _>(&fits_java(sample())), fits_java(sample()));
    let mut body = BytesMut::new();
    assert!(Hessian2::serialize(&u64::MAX, &mut body).is_err(), "u64::MAX does not fit a Java long");
}

#[derive(Clone, PartialEq, prost::Message)]
struct User {
    #[prost(uint64, tag = "1")]
    id: u64,
    #[prost(string, tag = "2")]
    name: String,
    #[prost(bytes = "vec", tag = "3")]
    avatar: Vec<u8>,
    #[prost(string, repeated, tag = "4")]
    roles: Vec<String>,
    #[prost(message, optional, tag = "5")]
    manager: Option<Box<User>>,
    #[prost(map = "string, int64", tag = "6")]
    counters: HashMap<String, i64>,
}

#[test]
fn protobuf_round_trips_messages_and_wrappers() {
    let user = User {
        id: 7,
        name: "ada".into(),
        avatar: vec![0, 1, 255],
        roles: vec!["admin".into()],
        manager: Some(Box::new(User { id: 1, ..Default::default() })),
        counters: [("logins".to_string(), -4)].into_iter().collect(),
    };
    assert_eq!(serde_round_trip::<Protobuf, _>(&user), user);
    assert_eq!(serde_round_trip::<Protobuf, _>(&"wrapped".to_string()), "wrapped");
    assert_eq!(serde_round_trip::<Protobuf, _>(&99u64), 99);
    assert_eq!(serde_round_trip::<Protobuf, _>(&()), ());
}

#[test]
fn garbage_bodies_are_decode_errors() {
    let garbage = [0xc1u8, 0xff, 0x00, 0x13];
    assert!(matches!(
        <MsgPack as Serialization<Everything>>::deserialize(&garbage),
        Err(SerializationError::Decode { format: "msgpack", .. })
    ));
    assert!(matches!(
        <Json as Serialization<Everything>>::deserialize(&garbage),
        Err(SerializationError::Decode { format: "json", .. })
    ));
    assert!(matches!(
        <Protobuf as Serialization<User>>::deserialize(&garbage),
        Err(SerializationError::Decode { format: "protobuf", .. })
    ));
    // Wrong arity: two arguments sent where three are expected.
    let mut two = BytesMut::new();
    MsgPack::serialize(&("a".to_string(), 1u8), &mut two).unwrap();
    assert!(<MsgPack as Serialization<(String, u8, u8)>>::deserialize(&two).is_err());
}

#[test]
fn serialization_ids_are_stable() {
    // The numbers are on the wire (docs/PROTOCOL.md): renumbering breaks every peer.
    for (id, byte) in [
        (SerializationId::MsgPack, 1),
        (SerializationId::Json, 2),
        (SerializationId::Protobuf, 3),
        (SerializationId::Hessian2, 4),
    ] {
        assert_eq!(id as u8, byte);
        assert_eq!(SerializationId::try_from(byte).unwrap(), id);
    }
    assert_eq!(SerializationId::try_from(0), Err(SerializationError::UnknownId(0)));
    assert_eq!(SerializationId::try_from(200), Err(SerializationError::UnknownId(200)));
}

proptest::proptest! {
    #[test]
    fn msgpack_and_json_decoders_are_total(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
        let _ = <MsgPack as Serialization<Everything>>::deserialize(&bytes);
        let _ = <MsgPack as Serialization<Vec<String>>>::deserialize(&bytes);
        let _ = <Json as Serialization<Everything>>::deserialize(&bytes);
        let _ = <Protobuf as Serialization<User>>::deserialize(&bytes);
        let _ = <Hessian2 as Serialization<Everything>>::deserialize(&bytes);
        let _ = <Hessian2 as Serialization<(String, Vec<u8>, HashMap<String, i64>)>>::deserialize(&bytes);
    }

    /// Bytes drawn mostly from Hessian's own tags, so the decoder meets deep nesting, class
    /// definitions, references and chunks rather than failing at the first byte.
    #[test]
    fn hessian2_decoder_is_total(bytes in proptest::collection::vec(proptest::sample::select(vec![
        0x00u8, 0x01, 0x05, 0x30, 0x43, 0x44, 0x48, 0x49, 0x4c, 0x4e, 0x4f, 0x51, 0x52, 0x53, 0x55, 0x56,
        0x57, 0x58, 0x5a, 0x5f, 0x60, 0x61, 0x71, 0x79, 0x7f, 0x90, 0x91, 0x92, 0xc8, 0xd4, 0xe0, 0xf8,
        0x20, 0x41, 0x42, 0x4a, 0x4b, 0x4d, 0xed, 0xa0, 0xff, 0x80, 0x61, 0x62,
    ]), 0..512)) {
        let _ = <Hessian2 as Serialization<Everything>>::deserialize(&bytes);
        let _ = <Hessian2 as Serialization<serde_json::Value>>::deserialize(&bytes);
        let _ = <Hessian2 as Serialization<(Vec<String>, Option<Shape>)>>::deserialize(&bytes);
    }

    /// What we write, we read back, for arbitrary strings (surrogates, long chunks) and numbers.
    #[test]
    fn hessian2_round_trips_arbitrary_values(
        text in ".{0,200}",
        long_text in proptest::option::of(proptest::collection::vec(proptest::char::any(), 33_000..33_100)),
        ints in proptest::collection::vec(proptest::prelude::any::<i64>(), 0..20),
        doubles in proptest::collection::vec(proptest::prelude::any::<f64>().prop_filter("NaN", |d| !d.is_nan()), 0..20),
        blob in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000),
    ) {
        let long_text: Option<String> = long_text.map(|chars| chars.into_iter().collect());
        let value = (text, long_text, ints, doubles, blob);
        let mut body = BytesMut::new();
        Hessian2::serialize(&value, &mut body).unwrap();
        let back: (String, Option<String>, Vec<i64>, Vec<f64>, Vec<u8>) = Hessian2::deserialize(&body).unwrap();
        proptest::prop_assert_eq!(back, value);
    }
}
