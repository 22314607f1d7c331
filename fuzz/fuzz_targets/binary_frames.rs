//! The binary protocol's frame decoder (header, metadata, events, stream frames), fed bytes
//! as a connection would deliver them: whole, and split at an arbitrary point.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use rpc_codec::{FrameCodec, Inbound};
use tokio_util::codec::Decoder;

fn decode_all(codec: &mut FrameCodec, buffer: &mut BytesMut) -> bool {
    loop {
        match codec.decode(buffer) {
            Ok(Some(Inbound::Frame(frame))) => {
                let _ = frame.event_kind();
                let _ = frame.metadata.attachments.len();
            }
            Ok(Some(Inbound::Rejected { .. })) => {}
            Ok(None) => return true,
            Err(_) => return false,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    rpc_core::fuzz::detect(data);
    // A small limit, so "too large" paths are reached too.
    let split = data.first().map_or(0, |&b| b as usize).min(data.len());
    let mut codec = FrameCodec::new(64 * 1024);
    let mut buffer = BytesMut::from(&data[..split]);
    if decode_all(&mut codec, &mut buffer) {
        buffer.extend_from_slice(&data[split..]);
        if decode_all(&mut codec, &mut buffer) {
            let _ = codec.decode_eof(&mut buffer);
        }
    }
});
