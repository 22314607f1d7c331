//! Writes seed inputs for the fuzz targets into `corpus/<target>/`: well-formed frames,
//! values and records, from which libFuzzer mutates its way into the decoders' deeper paths
//! (a fuzzer starting from nothing rarely builds a whole frame with valid metadata).

use std::path::Path;

use bytes::{Bytes, BytesMut};
use rpc_codec::{Attachments, EventKind, Frame, FrameCodec, Hessian2, Metadata, MsgPack, Serialization};
use tokio_util::codec::Encoder;

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new("corpus").join(target);
    std::fs::create_dir_all(&dir).expect("corpus directory");
    std::fs::write(dir.join(format!("seed-{name}")), bytes).expect("write seed");
}

fn frames(frames: Vec<Frame>) -> BytesMut {
    let mut wire = BytesMut::new();
    for frame in frames {
        FrameCodec::default().encode(frame, &mut wire).expect("encode");
    }
    wire
}

#[derive(serde::Serialize, serde::Deserialize)]
struct User {
    name: String,
    age: i32,
    tags: Vec<String>,
    score: f64,
    admin: bool,
    id: i64,
    nickname: Option<String>,
}

fn main() {
    let mut metadata = Metadata::call("demo.Greeter", "hello");
    metadata.version = "1.0.0".into();
    metadata.group = "blue".into();
    let mut attachments = Attachments::new();
    attachments.insert("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    attachments.insert("token", "s3cret");
    metadata.attachments = attachments;
    let mut body = BytesMut::new();
    <MsgPack as Serialization<String>>::serialize(&"world".to_string(), &mut body).unwrap();
    let wire = frames(vec![
        Frame::request(1, metadata.clone(), body.clone().freeze()),
        Frame::response(1, 1, 0, body.clone().freeze()),
        Frame::event(2, EventKind::Heartbeat, true),
        Frame::stream_message(3, true, 1, body.clone().freeze()),
        Frame::stream_end(3, true, 1, 0, Bytes::new()),
    ]);
    // The target splits its input at the first byte's value: 0 feeds it whole.
    let mut whole = vec![0u8];
    whole.extend_from_slice(&wire);
    write("binary_frames", "calls", &wire);
    write("binary_frames", "calls-whole", &whole);

    let user = User {
        name: "ann".into(),
        age: 30,
        tags: vec!["x".into(), "y".into()],
        score: 1.5,
        admin: true,
        id: 1 << 40,
        nickname: None,
    };
    let mut hessian = BytesMut::new();
    <Hessian2 as Serialization<User>>::serialize(&user, &mut hessian).unwrap();
    write("hessian2", "user", &hessian);
    let mut list = BytesMut::new();
    <Hessian2 as Serialization<Vec<String>>>::serialize(&vec!["a".into(), "b".into()], &mut list).unwrap();
    write("hessian2", "list", &list);

    let mut grpc = vec![0u8, 0, 0, 0, 7];
    grpc.extend_from_slice(b"\x0a\x05world");
    write("grpc", "message", &grpc);
    write("grpc", "timeout", b"100m");
    write("grpc", "metadata", b"tenant\0acme\0trace-bin\0AAEC\0grpc-status\x003");

    write(
        "registry_records",
        "provider-url",
        b"tri%3A%2F%2F10.0.0.1%3A20880%2Fdemo.Greeter%3Fapplication%3Ddemo%26version%3D1.0.0%26weight%3D50%26token%3Dx",
    );
    write(
        "registry_records",
        "application",
        br#"{"app":"demo","revision":"r1","services":{"demo.Greeter:tri":{"name":"demo.Greeter","protocol":"tri","port":20880,"params":{"version":"1.0.0"}}}}"#,
    );
    println!("seeds written under fuzz/corpus/");
}
