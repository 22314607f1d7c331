use bytes::{Buf, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::{CodecError, EncodeInto, Frame, FrameHeader, FrameLength, FrameSink, Metadata, MetadataError, HEADER_LEN};

/// Frames larger than this (header included) are refused unless configured otherwise: 8 MiB.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 8 * 1024 * 1024;

/// On a busy connection, read this much at a time (bounded by the maximum frame size): fewer
/// read syscalls. An idle connection keeps the reader's small initial buffer.
const BUSY_READ_CHUNK: usize = 32 * 1024;

/// What the decoder yields: a frame, or a frame it had to refuse without losing the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// A whole frame.
    Frame(Frame),
    /// The framing is intact but this frame cannot be used; `header` says whom to answer.
    Rejected {
        /// The frame's header, so the peer can be answered (its request id, its flags).
        header: FrameHeader,
        /// Why it was refused.
        reason: RejectReason,
    },
}

/// Why a frame was refused while the stream stays usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RejectReason {
    /// Header plus payload exceed the maximum frame size. Its payload is skipped as it arrives,
    /// never buffered.
    TooLarge {
        /// Bytes the frame takes, header included.
        size: u64,
        /// The limit.
        max: usize,
    },
    /// The metadata section is malformed.
    BadMetadata(MetadataError),
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RejectReason::TooLarge { size, max } => {
                write!(f, "frame of {size} bytes exceeds the maximum frame size of {max} bytes")
            }
            RejectReason::BadMetadata(e) => write!(f, "malformed metadata: {e}"),
        }
    }
}

/// The length-prefixed framing as a tokio-util [`Decoder`] / [`Encoder`] pair.
///
/// Decoding never reserves more than the maximum frame size: an oversized frame is reported as
/// [`Inbound::Rejected`] from its header alone and its payload is then discarded as it streams
/// in, so the connection survives it. A wrong magic or version is a [`CodecError`]: the stream
/// cannot be resynchronised and must be closed.
#[derive(Debug, Clone)]
pub struct FrameCodec {
    max_frame_size: usize,
    /// Payload bytes of a refused frame still to skip.
    discarding: u64,
    /// The read buffer ran low while frames were being taken from it (a busy connection):
    /// the next read gets a full chunk. Reserved only once the buffer is down to a partial
    /// frame — reserving at once would move everything still unread into a new allocation
    /// (the taken frames keep the old one alive), a copy of ~1 KiB per call in the profiles.
    grow: bool,
}

impl Default for FrameCodec {
    fn default() -> Self {
        FrameCodec::new(DEFAULT_MAX_FRAME_SIZE)
    }
}

impl FrameCodec {
    /// A codec refusing frames over `max_frame_size` bytes (header included).
    pub fn new(max_frame_size: usize) -> Self {
        FrameCodec { max_frame_size: max_frame_size.max(HEADER_LEN), discarding: 0, grow: false }
    }

    /// The largest frame, header included, this codec encodes or accepts.
    pub fn max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    /// Before the reader waits for more: room for a full chunk if the connection is busy.
    fn make_room(&mut self, src: &mut BytesMut) {
        if !std::mem::take(&mut self.grow) {
            return;
        }
        // A buffer of a whole chunk, the partial frame included, never over the frame limit:
        // the same allocation if no taken frame still holds it, else an exact new one
        // (`reserve` may double a buffer past the limit).
        let chunk = BUSY_READ_CHUNK.min(self.max_frame_size);
        if src.capacity() < chunk && !src.try_reclaim(chunk - src.len()) {
            let mut fresh = BytesMut::with_capacity(chunk);
            fresh.extend_from_slice(src);
            *src = fresh;
        }
    }

    /// Size on the wire of `frame` (header included), or the reason it cannot be sent.
    pub fn encoded_len(&self, frame: &Frame) -> Result<usize, CodecError> {
        frame.metadata.validate()?;
        self.checked_size(frame.metadata.encoded_len(), frame.body.len())
    }

    fn checked_size(&self, metadata_len: usize, body_len: usize) -> Result<usize, CodecError> {
        let size = (HEADER_LEN + metadata_len) as u64 + body_len as u64;
        if size > self.max_frame_size as u64 {
            return Err(CodecError::FrameTooLarge { size, max: self.max_frame_size });
        }
        Ok(size as usize)
    }
}

/// Drops up to `remaining` bytes of a refused frame's payload from `src` as they arrive;
/// whether all are gone (decoding may go on).
pub(crate) fn discard(src: &mut BytesMut, remaining: &mut u64) -> bool {
    let skip = (*remaining).min(src.len() as u64);
    src.advance(skip as usize);
    *remaining -= skip;
    *remaining == 0
}

impl Decoder for FrameCodec {
    type Item = Inbound;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Inbound>, CodecError> {
        if !discard(src, &mut self.discarding) {
            return Ok(None);
        }
        if src.len() < HEADER_LEN {
            self.make_room(src);
            return Ok(None);
        }
        let header = FrameHeader::parse(&src[..HEADER_LEN])?;
        let size = HEADER_LEN as u64 + header.payload_len();
        if size > self.max_frame_size as u64 {
            src.advance(HEADER_LEN);
            self.discarding = header.payload_len();
            let reason = RejectReason::TooLarge { size, max: self.max_frame_size };
            return Ok(Some(Inbound::Rejected { header, reason }));
        }
        // Bounded by the check above.
        let size = size as usize;
        if src.len() < size {
            // Room for a chunk first: the frame usually fits in it, and one allocation does.
            self.make_room(src);
            crate::reserve_toward(src, size);
            return Ok(None);
        }
        let mut payload = src.split_to(size).freeze();
        payload.advance(HEADER_LEN);
        if src.capacity() - src.len() < HEADER_LEN * 64 {
            self.grow = true;
        }
        let body = payload.split_off(header.metadata_len as usize);
        match Metadata::parse(payload) {
            Ok(metadata) => Ok(Some(Inbound::Frame(Frame {
                flags: header.flags,
                serialization: header.serialization,
                status: header.status,
                request_id: header.request_id,
                metadata,
                body,
            }))),
            Err(e) => Ok(Some(Inbound::Rejected { header, reason: RejectReason::BadMetadata(e) })),
        }
    }
}

impl FrameLength for FrameCodec {
    fn frame_len(&self, src: &[u8]) -> Option<usize> {
        if self.discarding > 0 {
            return None;
        }
        let header = FrameHeader::parse(src.get(..HEADER_LEN)?).ok()?;
        let size = HEADER_LEN as u64 + header.payload_len();
        (size <= self.max_frame_size as u64).then_some(size as usize)
    }
}

impl EncodeInto<Frame> for FrameCodec {
    fn encode_into<S: FrameSink>(&mut self, frame: Frame, dst: &mut S) -> Result<(), CodecError> {
        let metadata_len = frame.metadata.encoded_len();
        if metadata_len > 0 {
            frame.metadata.validate()?;
        }
        self.checked_size(metadata_len, frame.body.len())?;
        let header = FrameHeader {
            flags: frame.flags,
            serialization: frame.serialization,
            status: frame.status,
            request_id: frame.request_id,
            metadata_len: metadata_len as u32,
            body_len: frame.body.len() as u32,
        };
        header.write(dst);
        frame.metadata.write(dst);
        dst.put_body(&frame.body);
        Ok(())
    }
}

impl Encoder<Frame> for FrameCodec {
    type Error = CodecError;

    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        dst.reserve(HEADER_LEN + frame.metadata.encoded_len() + frame.body.len());
        self.encode_into(frame, dst)
    }
}

#[cfg(test)]
mod tests {
    use bytes::{BufMut, Bytes};

    use super::*;
    use crate::{EventKind, Flags};

    fn encode(frame: Frame) -> BytesMut {
        let mut buf = BytesMut::new();
        FrameCodec::default().encode(frame, &mut buf).unwrap();
        buf
    }

    #[test]
    fn the_header_of_a_large_frame_reserves_little_until_its_bytes_arrive() {
        // A peer sends the header of an 8 MiB frame (and a little of it) and nothing more.
        let body = Bytes::from(vec![1u8; DEFAULT_MAX_FRAME_SIZE - 1024]);
        let wire = encode(Frame::request(1, Metadata::call("svc", "m"), body.clone()));
        let mut codec = FrameCodec::default();
        let mut buf = BytesMut::from(&wire[..HEADER_LEN + 100]);
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
        assert!(buf.capacity() < 1 << 20, "reserved {} bytes for 124 received", buf.capacity());
        // The rest arriving in pieces still decodes the frame.
        let mut at = HEADER_LEN + 100;
        let frame = loop {
            let room = (buf.capacity() - buf.len()).clamp(1, wire.len() - at);
            buf.extend_from_slice(&wire[at..at + room]);
            at += room;
            if let Some(frame) = codec.decode(&mut buf).unwrap() {
                break frame;
            }
        };
        assert!(matches!(frame, Inbound::Frame(frame) if frame.body == body));
    }

    #[test]
    fn decodes_byte_by_byte() {
        let frame = Frame::request(42, Metadata::call("svc", "m"), Bytes::from_static(b"body"));
        let wire = encode(frame.clone());
        let mut codec = FrameCodec::default();
        let mut buf = BytesMut::new();
        for (i, byte) in wire.iter().enumerate() {
            buf.put_u8(*byte);
            let decoded = codec.decode(&mut buf).unwrap();
            if i + 1 < wire.len() {
                assert!(decoded.is_none(), "frame complete too early at byte {i}");
            } else {
                assert_eq!(decoded, Some(Inbound::Frame(frame.clone())));
            }
        }
    }

    #[test]
    fn oversized_frame_is_rejected_and_skipped_then_next_frame_decodes() {
        let big = Frame::request(1, Metadata::call("svc", "m"), Bytes::from(vec![7u8; 1000]));
        let small = Frame::event(2, EventKind::Heartbeat, true);
        let mut wire = encode(big);
        wire.extend_from_slice(&encode(small.clone()));
        let mut codec = FrameCodec::new(512);
        let mut buf = BytesMut::new();
        let mut seen = Vec::new();
        // Feed in 100-byte chunks: the big body must be skipped without being buffered.
        for chunk in wire.chunks(100) {
            buf.extend_from_slice(chunk);
            while let Some(item) = codec.decode(&mut buf).unwrap() {
                seen.push(item);
            }
            assert!(buf.len() <= 512, "buffered {} bytes", buf.len());
        }
        assert_eq!(seen.len(), 2);
        match &seen[0] {
            Inbound::Rejected { header, reason: RejectReason::TooLarge { max: 512, .. } } => {
                assert_eq!(header.request_id, 1);
                assert!(header.flags.contains(Flags::REQUEST));
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
        assert_eq!(seen[1], Inbound::Frame(small));
    }

    #[test]
    fn bad_magic_and_version_are_fatal() {
        let mut wire = encode(Frame::event(1, EventKind::Heartbeat, true));
        wire[0] = b'G';
        assert!(matches!(FrameCodec::default().decode(&mut wire), Err(CodecError::BadMagic { .. })));
        let mut wire = encode(Frame::event(1, EventKind::Heartbeat, true));
        wire[2] = 9;
        assert!(matches!(FrameCodec::default().decode(&mut wire), Err(CodecError::UnsupportedVersion { found: 9 })));
    }

    #[test]
    fn encoding_an_oversized_frame_fails_before_writing() {
        let frame = Frame::request(1, Metadata::default(), Bytes::from(vec![0u8; 600]));
        let mut buf = BytesMut::new();
        let err = FrameCodec::new(512).encode(frame, &mut buf).unwrap_err();
        assert!(matches!(err, CodecError::FrameTooLarge { size: 624, max: 512 }));
        assert!(buf.is_empty());
    }
}
