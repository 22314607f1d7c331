//! The golden frames of docs/PROTOCOL.md, byte for byte: the encoder produces them and the
//! decoder reads them back. The hex is parsed from the spec itself, so the two cannot drift.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use rpc_codec::{EventKind, Flags, Frame, FrameCodec, Inbound, Metadata, SerializationId};
use tokio_util::codec::{Decoder, Encoder};

/// The bytes of the block following `<!-- golden: name -->`; text after `#` is commentary.
fn golden(name: &str) -> Vec<u8> {
    let spec = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/PROTOCOL.md")).unwrap();
    let marker = format!("<!-- golden: {name} -->");
    let after = &spec[spec.find(&marker).unwrap_or_else(|| panic!("no golden block {name}")) + marker.len()..];
    let block = after.split("```").nth(1).expect("a fenced block after the marker");
    block
        .lines()
        .skip(1) // the fence's language tag
        .flat_map(|line| line.split('#').next().unwrap().split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .map(|byte| u8::from_str_radix(&byte, 16).unwrap_or_else(|_| panic!("bad hex {byte:?} in {name}")))
        .collect()
}

fn check(name: &str, frame: Frame) {
    let mut wire = BytesMut::new();
    FrameCodec::default().encode(frame.clone(), &mut wire).unwrap();
    let expected = golden(name);
    assert_eq!(hex(&wire), hex(&expected), "encoding of {name} differs from docs/PROTOCOL.md");
    let mut input = BytesMut::from(&expected[..]);
    assert_eq!(FrameCodec::default().decode(&mut input).unwrap(), Some(Inbound::Frame(frame)));
    assert!(input.is_empty());
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

#[test]
fn request() {
    let mut metadata = Metadata::call("demo.Greeter", "hello");
    metadata.version = "1.0.0".into();
    metadata.timeout = Some(Duration::from_millis(500));
    metadata.attachments.insert("from", "cli");
    check("request", Frame::request(1, metadata, Bytes::from_static(&[0xa5, b'w', b'o', b'r', b'l', b'd'])));
}

#[test]
fn response() {
    check("response", Frame::response(1, SerializationId::MsgPack as u8, 0, Bytes::from_static(&[0xa2, b'H', b'i'])));
}

#[test]
fn error_response() {
    check("error-response", Frame::response(2, 1, 5, Bytes::from_static(b"no such user")));
}

#[test]
fn events() {
    check("heartbeat-request", Frame::event(0, EventKind::Heartbeat, true));
    check("heartbeat-response", Frame::event(0, EventKind::Heartbeat, false));
    check("go-away", Frame::event(0, EventKind::GoAway, false));
    let mut wire = BytesMut::from(&golden("go-away")[..]);
    match FrameCodec::default().decode(&mut wire).unwrap() {
        Some(Inbound::Frame(frame)) => assert_eq!(frame.event_kind(), Some(EventKind::GoAway)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn oneway_json() {
    let mut frame = Frame::request(9, Metadata::call("log.Sink", "write"), Bytes::from_static(br#"["x",2]"#));
    frame.flags = Flags::REQUEST | Flags::ONEWAY;
    frame.serialization = SerializationId::Json as u8;
    check("oneway-json", frame);
}
