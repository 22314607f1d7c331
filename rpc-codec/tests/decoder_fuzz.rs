//! Property tests: the decoder is total and bounded whatever bytes arrive.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use rpc_codec::{Flags, Frame, FrameCodec, Inbound, Metadata, RejectReason, HEADER_LEN, MAGIC, VERSION};
use tokio_util::codec::{Decoder, Encoder};

const MAX: usize = 4096;

/// Records the largest allocation made on this thread while `TRACKING` is set, so a test can
/// show that no length field makes the decoder allocate beyond the frame limit.
struct LargestAllocation;

thread_local! {
    static TRACKING: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    let _ = TRACKING.try_with(|tracking| {
        if tracking.get() {
            LARGEST.with(|largest| largest.set(largest.get().max(size)));
        }
    });
}

unsafe impl GlobalAlloc for LargestAllocation {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: LargestAllocation = LargestAllocation;

/// Decodes with allocation tracking on; returns the result and the largest allocation made.
fn tracked_decode(
    codec: &mut FrameCodec,
    buf: &mut BytesMut,
) -> (Result<Option<Inbound>, rpc_codec::CodecError>, usize) {
    LARGEST.with(|largest| largest.set(0));
    TRACKING.with(|tracking| tracking.set(true));
    let result = codec.decode(buf);
    TRACKING.with(|tracking| tracking.set(false));
    (result, LARGEST.with(Cell::get))
}

/// Feeds `bytes` in `chunk`-sized pieces, decoding after each, until an error or the end.
/// Asserts the buffer never holds more than one maximal frame plus the chunk just read.
fn drive(bytes: &[u8], chunk: usize) -> Vec<Inbound> {
    let mut codec = FrameCodec::new(MAX);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in bytes.chunks(chunk.max(1)) {
        buf.extend_from_slice(piece);
        loop {
            let (result, largest) = tracked_decode(&mut codec, &mut buf);
            assert!(largest <= MAX + HEADER_LEN, "decode allocated {largest} bytes at once (max frame {MAX})");
            match result {
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

    /// Half the cases start with the magic and version, so they get past the first check
    /// (random bytes match it once in 65,536).
    #[test]
    fn arbitrary_bytes_never_panic(
        framed in any::<bool>(),
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        chunk in 1usize..300,
    ) {
        let mut input = Vec::new();
        if framed {
            input.extend_from_slice(&MAGIC.to_be_bytes());
            input.push(VERSION);
        }
        input.extend_from_slice(&bytes);
        drive(&input, chunk);
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
        let items = drive(&bytes, chunk);
        let size = HEADER_LEN as u64 + u64::from(metadata_len) + u64::from(body_len);
        let payload_len = u64::from(metadata_len) + u64::from(body_len);
        match items.first() {
            // Over the limit: refused from the header alone, before any payload is awaited.
            _ if size > MAX as u64 => prop_assert!(
                matches!(items.first(), Some(Inbound::Rejected { reason: RejectReason::TooLarge { .. }, .. })),
                "a {size}-byte frame over the {MAX}-byte limit gave {items:?}"
            ),
            // Within it but not all here: nothing yet.
            _ if (payload.len() as u64) < payload_len => prop_assert!(items.is_empty(), "{items:?}"),
            // All here: the frame, or its metadata refused.
            Some(Inbound::Frame(_)) | Some(Inbound::Rejected { reason: RejectReason::BadMetadata(_), .. }) => {}
            other => prop_assert!(false, "a complete {size}-byte frame gave {other:?}"),
        }
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
