//! Every serialization round-trips every kind of argument it supports.

use std::collections::{BTreeMap, HashMap};

use bytes::BytesMut;
use rpc_codec::{Json, MsgPack, Protobuf, Serialization, SerializationError, SerializationId};
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
    for (id, byte) in [(SerializationId::MsgPack, 1), (SerializationId::Json, 2), (SerializationId::Protobuf, 3)] {
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
    }
}
