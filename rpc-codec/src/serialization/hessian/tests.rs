//! Golden bytes: every expected encoding here was produced by hessian-lite 4.0.3 (Dubbo 3.3's
//! Hessian) on OpenJDK 17; the Java peer test in `tests/hessian_java.rs` checks Caucho's too.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{Decoder, Encoder};

fn value<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
    let mut enc = Encoder::new(bytes::BytesMut::new());
    enc.write_value(v).unwrap();
    enc.into_inner().to_vec()
}

fn body<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
    let mut enc = Encoder::new(bytes::BytesMut::new());
    enc.write_body(v).unwrap();
    enc.into_inner().to_vec()
}

fn read<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, super::Error> {
    Decoder::new(bytes).read_body()
}

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect()
}

fn with_text(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn ints_are_compact_as_java_writes_them() {
    let ints = [0, -16, 47, 48, -2048, 2047, 262143, 262144];
    let bytes: Vec<u8> = ints.iter().flat_map(value).collect();
    assert_eq!(bytes, hex("90 80 bf c8 30 c0 00 cf ff d7 ff ff 49 00 04 00 00"));
    let mut de = Decoder::new(&bytes);
    for expected in ints {
        assert_eq!(de.read_value::<i32>().unwrap(), expected);
    }
}

#[test]
fn longs_are_compact_as_java_writes_them() {
    let longs: [i64; 7] = [0, 15, 16, 2047, 262143, (1 << 31) - 1, 1 << 31];
    let bytes: Vec<u8> = longs.iter().flat_map(value).collect();
    assert_eq!(bytes, hex("e0 ef f8 10 ff ff 3f ff ff 59 7f ff ff ff 4c 00 00 00 00 80 00 00 00"));
    let mut de = Decoder::new(&bytes);
    for expected in longs {
        assert_eq!(de.read_value::<i64>().unwrap(), expected);
    }
}

#[test]
fn doubles_use_hessian_lite_mills_form() {
    // 0x5f is an int32 of value × 1000, not the spec's 32-bit float.
    assert_eq!(value(&0.5), hex("5f 00 00 01 f4"));
    assert_eq!(value(&12.25), hex("5f 00 00 2f da"));
    assert_eq!(value(&0.1), hex("5f 00 00 00 64"));
    assert_eq!(value(&1.5f32), hex("5f 00 00 05 dc"));
    assert_eq!(value(&0.0), hex("5b"));
    assert_eq!(value(&1.0), hex("5c"));
    assert_eq!(value(&-3.0), hex("5d fd"));
    assert_eq!(value(&300.0), hex("5e 01 2c"));
    for v in [0.5, 12.25, 0.1, std::f64::consts::PI, -1e300, 300.0, f64::INFINITY] {
        assert_eq!(read::<f64>(&value(&v)).unwrap(), v);
    }
}

#[test]
fn strings_count_utf16_units() {
    assert_eq!(value("\u{1F600}"), hex("02 ed a0 bd ed b8 80"));
    assert_eq!(read::<String>(&hex("02 ed a0 bd ed b8 80")).unwrap(), "\u{1F600}");
    let long = "é".repeat(40_000);
    let bytes = value(long.as_str());
    assert_eq!(bytes[0], b'R');
    assert_eq!(read::<String>(&bytes).unwrap(), long);
    let medium = "x".repeat(1000);
    assert_eq!(&value(medium.as_str())[..2], &[0x33, 0xe8]);
}

#[test]
fn binary_lists_and_maps_match_java() {
    assert_eq!(value(&vec![1u8, 2, 3]), hex("23 01 02 03"));
    assert_eq!(value(&vec![1i32, 2]), hex("7a 91 92"));
    let map: HashMap<String, i32> = [("a".to_string(), 1)].into();
    assert_eq!(value(&map), hex("48 01 61 91 5a"));
    assert_eq!(read::<Vec<u8>>(&hex("23 01 02 03")).unwrap(), [1, 2, 3]);
    // Java's String[] and int[] are typed lists.
    assert_eq!(read::<Vec<String>>(&with_text(&[&hex("72 07"), b"[string", &hex("01 61 01 62")])).unwrap(), ["a", "b"]);
    assert_eq!(read::<Vec<i32>>(&with_text(&[&hex("72 04"), b"[int", &hex("91 92")])).unwrap(), [1, 2]);
    let tree = with_text(&[&hex("4d 11"), b"java.util.TreeMap", &hex("01 61 91 5a")]);
    assert_eq!(read::<HashMap<String, i32>>(&tree).unwrap(), map);
    let big = vec![7u8; 70_000];
    assert_eq!(read::<Vec<u8>>(&value(&big)).unwrap(), big);
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Probe$User")]
struct User {
    name: String,
    age: i32,
    tags: Vec<String>,
    id: Option<i64>,
}

#[test]
fn objects_match_fields_by_name_in_any_order() {
    // Java wrote the fields in reverse declaration order: tags, id, age, name.
    let java = with_text(&[
        &hex("43 0a"),
        b"Probe$User",
        &hex("94 04"),
        b"tags",
        &hex("02"),
        b"id",
        &hex("03"),
        b"age",
        &hex("04"),
        b"name",
        &hex("60 79 01 78 e7 93 03"),
        b"bob",
    ]);
    let user = User { name: "bob".into(), age: 3, tags: vec!["x".into()], id: Some(7) };
    assert_eq!(read::<User>(&java).unwrap(), user);
    // A second instance refers to the definition; the same instance again is `Q 0`.
    let mut twice = java.clone();
    twice.extend_from_slice(&hex("51 90"));
    let mut de = Decoder::new(&twice);
    assert_eq!(de.read_value::<User>().unwrap(), user);
    assert_eq!(de.read_value::<User>().unwrap(), user);
    assert!(de.is_at_end());
    // Ours: one definition, then the instance.
    let ours = value(&user);
    assert_eq!(&ours[..2], &hex("43 0a"));
    assert_eq!(read::<User>(&ours).unwrap(), user);
    let two = value(&vec![&user, &user]);
    assert_eq!(read::<Vec<User>>(&two).unwrap(), [user.clone_fields(), user.clone_fields()]);
    assert_eq!(two.iter().filter(|&&b| b == b'C').count(), 1, "one class definition for both");
}

impl User {
    fn clone_fields(&self) -> User {
        User { name: self.name.clone(), age: self.age, tags: self.tags.clone(), id: self.id }
    }
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "java.lang.Thread$State")]
enum State {
    #[serde(rename = "NEW")]
    New,
    #[serde(rename = "RUNNABLE")]
    Runnable,
}

#[test]
fn enums_are_objects_with_a_name() {
    let java = with_text(&[&hex("43 16"), b"java.lang.Thread$State", &hex("91 04"), b"name", &hex("60 03"), b"NEW"]);
    assert_eq!(value(&State::New), java);
    assert_eq!(read::<State>(&java).unwrap(), State::New);
    assert_eq!(read::<State>(&value("RUNNABLE")).unwrap(), State::Runnable);
}

#[derive(Debug, Deserialize)]
struct Throwable {
    #[serde(rename = "detailMessage")]
    detail_message: Option<String>,
    cause: Option<Box<Throwable>>,
    #[serde(rename = "stackTrace")]
    stack_trace: Vec<Frame>,
}

#[derive(Debug, Deserialize)]
struct Frame {
    #[serde(rename = "declaringClass")]
    declaring_class: String,
    #[serde(rename = "lineNumber")]
    line_number: i32,
}

/// `new RuntimeException("boom")` with one frame, on JDK 17: `cause` refers to the exception itself.
pub(crate) fn java_runtime_exception() -> Vec<u8> {
    with_text(&[
        &hex("43 1a"),
        b"java.lang.RuntimeException",
        &hex("94 14"),
        b"suppressedExceptions",
        &hex("0a"),
        b"stackTrace",
        &hex("05"),
        b"cause",
        &hex("0d"),
        b"detailMessage",
        &hex("60 70 1f"),
        b"java.util.Collections$EmptyList",
        &hex("71 1c"),
        b"[java.lang.StackTraceElement",
        &hex("43 1b"),
        b"java.lang.StackTraceElement",
        &hex("98 06"),
        b"format",
        &hex("0a"),
        b"lineNumber",
        &hex("08"),
        b"fileName",
        &hex("0a"),
        b"methodName",
        &hex("0e"),
        b"declaringClass",
        &hex("0d"),
        b"moduleVersion",
        &hex("0a"),
        b"moduleName",
        &hex("0f"),
        b"classLoaderName",
        &hex("61 90 97 06"),
        b"B.java",
        &hex("01"),
        b"m",
        &hex("03"),
        b"a.B",
        &hex("4e 4e 4e 51 90 04"),
        b"boom",
    ])
}

#[test]
fn a_java_exception_whose_cause_is_itself_reads() {
    let exception: Throwable = read(&java_runtime_exception()).unwrap();
    assert_eq!(exception.detail_message.as_deref(), Some("boom"));
    assert!(exception.cause.is_none(), "the self-reference reads as no cause");
    assert_eq!(exception.stack_trace[0].declaring_class, "a.B");
    assert_eq!(exception.stack_trace[0].line_number, 7);
    let bytes = java_runtime_exception();
    let mut de = Decoder::new(&bytes);
    assert_eq!(de.peek_class().unwrap().unwrap().name.as_ref(), "java.lang.RuntimeException");
    de.skip_value().unwrap();
    assert!(de.is_at_end());
}

#[test]
fn a_tuple_body_is_an_argument_list() {
    assert_eq!(body(&("world".to_string(), 3)), with_text(&[&hex("05"), b"world", &hex("93")]));
    assert_eq!(read::<(String, i32)>(&body(&("world".to_string(), 3))).unwrap(), ("world".into(), 3));
    assert!(body(&()).is_empty());
    read::<()>(&[]).unwrap();
    read::<()>(b"N").unwrap();
    // Nested, a tuple is a list.
    assert_eq!(value(&(1, 2)), hex("7a 91 92"));
    assert!(read::<String>(&hex("01 61 91")).is_err(), "bytes after the value");
}

#[test]
fn hostile_input_is_an_error_not_a_crash() {
    // Nested 100,000 deep.
    let deep = vec![0x79; 100_000];
    assert!(read::<serde::de::IgnoredAny>(&deep).unwrap_err().to_string().contains("nested deeper"));
    // A reference to an undefined index.
    assert!(read::<serde::de::IgnoredAny>(&hex("51 95")).unwrap_err().to_string().contains("not yet defined"));
    // A string longer than what is there.
    assert!(read::<String>(&hex("53 ff ff 61")).is_err());
    // A list claiming 2^31 elements.
    assert!(read::<Vec<i32>>(&hex("58 49 7f ff ff ff 91")).unwrap_err().to_string().contains("count"));
    // A class definition claiming a billion fields.
    assert!(read::<serde::de::IgnoredAny>(&hex("43 01 61 49 40 00 00 00")).is_err());
    // Lists of references to the previous list, doubling at each step.
    let mut bomb = hex("58 91 90");
    for i in 0..40 {
        bomb.extend_from_slice(&hex("7a 51"));
        bomb.extend_from_slice(&value(&i));
        bomb.extend_from_slice(&hex("51"));
        bomb.extend_from_slice(&value(&i));
    }
    assert!(read::<serde::de::IgnoredAny>(&bomb).is_err());
    assert!(read::<String>(&hex("04 f0 9f 98 80")).unwrap_err().to_string().contains("bad utf-8"));
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "test.Sometimes")]
struct Sometimes {
    id: i32,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    note: Option<String>,
    inner: Option<Box<Sometimes>>,
}

#[test]
fn a_struct_whose_fields_vary_is_defined_again_as_java_would_read_it() {
    let with = Sometimes { id: 1, note: Some("n".into()), inner: None };
    let without = Sometimes { id: 2, note: None, inner: Some(Box::new(with.clone())) };
    // Within one stream, and across streams on this thread (whose remembered field list is
    // then the wrong one for the next value), in both orders.
    for values in [vec![with.clone(), without.clone()], vec![without.clone(), with.clone()], vec![without.clone()]] {
        let bytes = body(&values);
        assert_eq!(read::<Vec<Sometimes>>(&bytes).unwrap(), values);
        let mut de = Decoder::new(&bytes);
        de.skip_value().unwrap();
        assert!(de.is_at_end());
    }
    for value in [&with, &without, &with] {
        assert_eq!(&read::<Sometimes>(&body(value)).unwrap(), value);
    }
    // Same count, other fields: `note` skipped where `extra` is set, and the other way.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename = "test.Either")]
    struct Either {
        #[serde(skip_serializing_if = "Option::is_none", default)]
        note: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        extra: Option<i32>,
        nested: Vec<Either>,
    }
    let a = Either { note: Some("a".into()), extra: None, nested: vec![] };
    let b = Either { note: None, extra: Some(2), nested: vec![a.clone()] };
    for values in [vec![a.clone(), b.clone()], vec![b.clone(), a.clone(), b.clone()]] {
        assert_eq!(read::<Vec<Either>>(&body(&values)).unwrap(), values);
    }
}
