//! Property tests: the decoder is total and bounded whatever bytes arrive.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use rpc_codec::{Flags, Frame, FrameCodec, Inbound, Metadata, HEADER_LEN, MAGIC, VERSION};
use tokio_util::codec::{Decoder, Encoder};

const MAX: usize = 4096;

/// Feeds `bytes` in `chunk`-sized pieces, decoding after each, until an error or the end.
/// Asserts the buffer never holds more than one maximal frame plus the chunk just read.
fn drive(bytes: &[u8], chunk: usize) -> Vec<Inbound> {
    let mut codec = FrameCodec::new(MAX);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in bytes.chunks(chunk.max(1)) {
        buf.extend_from_slice(piece);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(item)) => out.push(item),
                Ok(None) => break,
                Err(_) => return out,
            }
        }
        assert!(buf.capacity() <= MAX + chunk.max(1) + HEADER_LEN * 2, "capacity {}", buf.capacity());
    }
    out
}

fn header_prefix(metadata_len: u32, body_len: u32) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&MAGIC.to_be_bytes());
    v.push(VERSION);
    v.extend_from_slice(&[Flags::REQUEST.bits(), 1, 0, 0, 0]);
    v.extend_from_slice(&9u64.to_be_bytes());
    v.extend_from_slice(&metadata_len.to_be_bytes());
    v.extend_from_slice(&body_len.to_be_bytes());
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), chunk in 1usize..300) {
        drive(&bytes, chunk);
    }

    #[test]
    fn valid_header_with_arbitrary_lengths_and_payload(
        metadata_len in any::<u32>(),
        body_len in any::<u32>(),
        payload in proptest::collection::vec(any::<u8>(), 0..1024),
        chunk in 1usize..300,
    ) {
        let mut bytes = header_prefix(metadata_len, body_len);
        bytes.extend_from_slice(&payload);
        drive(&bytes, chunk);
    }

    #[test]
    fn arbitrary_metadata_section_is_handled(meta in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut bytes = header_prefix(meta.len() as u32, 0);
        bytes.extend_from_slice(&meta);
        let items = drive(&bytes, 64);
        prop_assert_eq!(items.len(), 1);
    }

    #[test]
    fn encoded_frames_round_trip(
        id in any::<u64>(),
        service in "[a-zA-Z.]{0,40}",
        method in "[a-z]{0,20}",
        attachments in proptest::collection::vec(("[a-z-]{1,10}", ".{0,20}"), 0..5),
        body in proptest::collection::vec(any::<u8>(), 0..1500),
        chunk in 1usize..400,
    ) {
        let mut metadata = Metadata::call(service, method);
        for (k, v) in attachments {
            metadata.attachments.insert(k, v);
        }
        let frame = Frame::request(id, metadata, Bytes::from(body));
        let mut wire = BytesMut::new();
        FrameCodec::new(MAX).encode(frame.clone(), &mut wire).unwrap();
        let items = drive(&wire, chunk);
        prop_assert_eq!(items, vec![Inbound::Frame(frame)]);
    }
}
