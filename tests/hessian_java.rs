//! Java's own Hessian as a peer of our Hessian2 codec: Debian's libhessian-java (Caucho
//! Hessian 4.0.38, which Dubbo's hessian-lite forked) with the machine's JDK. A small Java
//! program (`tests/java/HessianGolden.java`, compiled here with `javac`) writes golden values
//! of every type — objects with class names, shared references, an enum, an exception,
//! characters beyond the BMP, chunked strings and binaries — and our decoder reads them; then
//! Java reads what our encoder writes for the same values. Where the encodings are meant to
//! be the same bytes, they are compared byte for byte.

use std::collections::HashMap;

use bytes::BytesMut;
use rpc::codec::dubbo::{DubboResponse, DubboResult, JavaException};
use rpc::codec::{Hessian2, Serialization};
use serde::{Deserialize, Serialize};

mod common;

use common::java::Program;

/// The Hessian program, compiled against Debian's libhessian-java.
fn compiled() -> Program {
    Program::compile(&["HessianGolden.java"], &["hessian.jar"])
}

/// Runs it in `mode` with `input` on stdin; its stdout.
fn java(program: &Program, mode: &str, input: &str) -> String {
    let mut child = program.command("HessianGolden", &[mode]).spawn().expect("run java");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "java {mode} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "HessianGolden$User")]
struct User {
    name: String,
    age: i32,
    id: Option<i64>,
    tags: Vec<String>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "HessianGolden$Color")]
enum Color {
    #[serde(rename = "RED")]
    Red,
    #[serde(rename = "GREEN")]
    Green,
}

#[derive(Debug, Serialize, Deserialize)]
struct Throwable {
    #[serde(rename = "detailMessage")]
    detail_message: Option<String>,
}

fn chunked() -> String {
    format!("{}\u{1F600} and on", "a".repeat(0x8000 - 1))
}

fn binary(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7) as u8).collect()
}

fn ours<T: Serialize + serde::de::DeserializeOwned>(value: &T) -> Vec<u8> {
    let mut body = BytesMut::new();
    Hessian2::serialize(value, &mut body).unwrap();
    body.to_vec()
}

fn read<T: Serialize + serde::de::DeserializeOwned>(bytes: &[u8]) -> T {
    Hessian2::deserialize(bytes).unwrap_or_else(|e| panic!("{e}: {}", hex(bytes)))
}

#[test]
fn our_hessian2_and_javas_read_each_other() {
    let dir = compiled();
    let written: HashMap<String, Vec<u8>> = java(&dir, "write", "")
        .lines()
        .map(|line| {
            let (name, bytes) = line.split_once(' ').unwrap_or((line, ""));
            (name.to_string(), unhex(bytes))
        })
        .collect();
    let java_wrote = |name: &str| written.get(name).unwrap_or_else(|| panic!("java wrote no {name}")).as_slice();
    let user = User { name: "bob".into(), age: 3, id: Some(7), tags: vec!["x".into()] };
    let shared = User { name: "ann".into(), age: 30, id: None, tags: vec![] };

    // Java → us.
    assert_eq!(read::<i32>(java_wrote("int_small")), 47);
    assert_eq!(read::<i32>(java_wrote("int_negative")), -2048);
    assert_eq!(read::<i32>(java_wrote("int_medium")), 262144);
    assert_eq!(read::<i32>(java_wrote("int_min")), i32::MIN);
    assert_eq!(read::<i64>(java_wrote("long_small")), 15);
    assert_eq!(read::<i64>(java_wrote("long_32")), 1 << 31);
    assert_eq!(read::<i64>(java_wrote("long_min")), i64::MIN);
    assert_eq!(read::<f64>(java_wrote("double_mills")), 12.25);
    assert_eq!(read::<f64>(java_wrote("double_tenth")), 0.1);
    assert_eq!(read::<f64>(java_wrote("double_pi")), std::f64::consts::PI);
    assert_eq!(read::<f64>(java_wrote("double_whole")), -300.0);
    assert!(read::<bool>(java_wrote("bool")));
    assert_eq!(read::<Option<String>>(java_wrote("null")), None);
    assert_eq!(read::<String>(java_wrote("string")), "héllo 世界");
    assert_eq!(read::<String>(java_wrote("string_emoji")), "\u{1F600} smile");
    assert_eq!(read::<String>(java_wrote("string_chunked")), chunked());
    assert_eq!(read::<Vec<u8>>(java_wrote("binary")), [1, 2, 3]);
    assert_eq!(read::<Vec<u8>>(java_wrote("binary_chunked")), binary(70000));
    assert_eq!(read::<Vec<String>>(java_wrote("list")), ["a", "b"]);
    assert_eq!(read::<Vec<String>>(java_wrote("string_array")), ["x", "y"]);
    assert_eq!(read::<Vec<i32>>(java_wrote("int_array")), [1, 2, 300]);
    assert_eq!(read::<HashMap<String, i32>>(java_wrote("map")), HashMap::from([("a".to_string(), 1)]));
    assert_eq!(read::<User>(java_wrote("user")), user);
    assert_eq!(read::<Vec<User>>(java_wrote("users_shared")), [shared.clone(), shared.clone()], "a shared reference");
    assert_eq!(read::<Color>(java_wrote("enum")), Color::Green);
    assert_eq!(read::<i64>(java_wrote("date")), 60_000, "a date reads as milliseconds");
    let exception: Throwable = read(java_wrote("exception"));
    assert_eq!(exception.detail_message.as_deref(), Some("boom"));

    // Where the encodings are meant to be the same bytes, they are.
    let same = [
        ("int_small", ours(&47i32)),
        ("int_negative", ours(&-2048i32)),
        ("int_medium", ours(&262144i32)),
        ("int_min", ours(&i32::MIN)),
        ("long_small", ours(&15i64)),
        ("long_32", ours(&(1i64 << 31))),
        ("long_min", ours(&i64::MIN)),
        ("double_mills", ours(&12.25f64)),
        ("double_tenth", ours(&0.1f64)),
        ("double_pi", ours(&std::f64::consts::PI)),
        ("double_whole", ours(&-300.0f64)),
        ("bool", ours(&true)),
        ("null", ours(&None::<String>)),
        ("string", ours(&"héllo 世界".to_string())),
        ("string_emoji", ours(&"\u{1F600} smile".to_string())),
        ("binary", ours(&vec![1u8, 2, 3])),
        ("list", ours(&vec!["a".to_string(), "b".to_string()])),
        ("map", ours(&HashMap::from([("a".to_string(), 1)]))),
        ("user", ours(&user)),
        ("enum", ours(&Color::Green)),
    ];
    for (name, bytes) in &same {
        assert_eq!(hex(bytes), hex(java_wrote(name)), "{name}: our bytes are Java's");
    }

    // Us → Java: Java reads each of ours as the value it wrote.
    let mut exception = BytesMut::new();
    let thrown = JavaException { class: rpc::codec::dubbo::EXCEPTION_CLASS.into(), message: Some("boom".into()) };
    DubboResponse { result: DubboResult::Exception(thrown), attachments: vec![] }.encode(false, &mut exception);
    let mut lines: Vec<(&str, Vec<u8>)> = same.iter().map(|(name, bytes)| (*name, bytes.clone())).collect();
    lines.extend([
        ("string_chunked", ours(&chunked())),
        ("binary_chunked", ours(&binary(70000))),
        ("string_array", ours(&vec!["x".to_string(), "y".to_string()])),
        ("int_array", ours(&vec![1i32, 2, 300])),
        ("users_shared", ours(&vec![shared.clone(), shared])),
        // After the response kind (one byte), the exception a failed call sends.
        ("exception", exception[1..].to_vec()),
    ]);
    let input: String = lines.iter().map(|(name, bytes)| format!("{name} {}\n", hex(bytes))).collect();
    let checked = java(&dir, "check", &input);
    let failures: Vec<&str> = checked.lines().filter(|l| !l.ends_with(" ok")).collect();
    assert!(failures.is_empty(), "Java could not read: {failures:#?}");
    assert_eq!(checked.lines().count(), lines.len(), "{checked}");
}
