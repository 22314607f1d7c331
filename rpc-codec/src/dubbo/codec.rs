//! dubbo2 framing as a tokio-util [`Decoder`] / [`Encoder`] pair.

use bytes::{Buf, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::header::{DubboHeader, DEFAULT_PAYLOAD, DUBBO_HEADER_LEN};
use crate::{CodecError, EncodeInto, FrameLength, FrameSink};

/// One dubbo2 frame: its header (the body length is taken from the body when written) and
/// body. A body to be written may come in parts (`body`, then `tail`), so a value encoded
/// elsewhere (a call's arguments, a handler's result) is not first copied into a body of its
/// own: each part is copied into the write buffer, or written from where it is if it is long
/// (see `WriteBuf`); a frame read has its whole body in `body`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DubboFrame {
    /// Flags, status and id.
    pub header: DubboHeader,
    /// The body (or its first part): one Hessian stream for calls and results, a string for
    /// errors and events.
    pub body: Bytes,
    /// The body's other parts, written after `body`; empty in a frame read.
    pub tail: [Bytes; 2],
}

impl DubboFrame {
    /// A frame of one body.
    pub fn new(header: DubboHeader, body: Bytes) -> DubboFrame {
        DubboFrame { header, body, tail: [Bytes::new(), Bytes::new()] }
    }

    /// A frame whose body is `parts` one after the other.
    pub fn from_parts(header: DubboHeader, parts: [Bytes; 3]) -> DubboFrame {
        let [body, second, third] = parts;
        DubboFrame { header, body, tail: [second, third] }
    }

    /// The length of the whole body.
    pub fn body_len(&self) -> usize {
        self.body.len() + self.tail[0].len() + self.tail[1].len()
    }
}

/// What the decoder yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DubboInbound {
    /// A whole frame.
    Frame(DubboFrame),
    /// A frame whose body is over the payload limit: its body is skipped as it arrives, never
    /// buffered, and `header` says whom to answer.
    TooLarge {
        /// The refused frame's header.
        header: DubboHeader,
        /// The limit it exceeded.
        payload: usize,
    },
}

/// The dubbo2 framing, refusing bodies over `payload` bytes (Dubbo's default 8 MiB). A wrong
/// magic is a [`CodecError`]: the stream cannot be resynchronised.
#[derive(Debug, Clone)]
pub struct DubboCodec {
    payload: usize,
    discarding: u64,
}

impl Default for DubboCodec {
    fn default() -> Self {
        DubboCodec::new(DEFAULT_PAYLOAD)
    }
}

impl DubboCodec {
    /// A codec with a payload limit of `payload` body bytes.
    pub fn new(payload: usize) -> DubboCodec {
        DubboCodec { payload, discarding: 0 }
    }

    /// The payload limit.
    pub fn payload(&self) -> usize {
        self.payload
    }
}

impl Decoder for DubboCodec {
    type Item = DubboInbound;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<DubboInbound>, CodecError> {
        if !crate::framing::discard(src, &mut self.discarding) {
            return Ok(None);
        }
        let Some(head) = src.get(..DUBBO_HEADER_LEN) else { return Ok(None) };
        let mut bytes = [0; DUBBO_HEADER_LEN];
        bytes.copy_from_slice(head);
        let header = DubboHeader::parse(&bytes).map_err(|found| CodecError::DubboBadMagic { found })?;
        let len = header.body_len as usize;
        if len > self.payload {
            src.advance(DUBBO_HEADER_LEN);
            self.discarding = u64::from(header.body_len);
            return Ok(Some(DubboInbound::TooLarge { header, payload: self.payload }));
        }
        if src.len() < DUBBO_HEADER_LEN + len {
            crate::reserve_toward(src, DUBBO_HEADER_LEN + len);
            return Ok(None);
        }
        src.advance(DUBBO_HEADER_LEN);
        let body = src.split_to(len).freeze();
        Ok(Some(DubboInbound::Frame(DubboFrame::new(header, body))))
    }
}

impl FrameLength for DubboCodec {
    fn frame_len(&self, src: &[u8]) -> Option<usize> {
        if self.discarding > 0 {
            return None;
        }
        let head: &[u8; DUBBO_HEADER_LEN] = src.get(..DUBBO_HEADER_LEN)?.try_into().ok()?;
        let header = DubboHeader::parse(head).ok()?;
        let len = header.body_len as usize;
        (len <= self.payload).then_some(DUBBO_HEADER_LEN + len)
    }
}

impl EncodeInto<DubboFrame> for DubboCodec {
    fn encode_into<S: FrameSink>(&mut self, frame: DubboFrame, dst: &mut S) -> Result<(), CodecError> {
        let body_len = frame.body_len();
        if body_len > self.payload {
            let size = (DUBBO_HEADER_LEN + body_len) as u64;
            return Err(CodecError::FrameTooLarge { size, max: self.payload + DUBBO_HEADER_LEN });
        }
        let header = DubboHeader { body_len: body_len as u32, ..frame.header };
        dst.put_slice(&header.to_bytes());
        dst.put_body(&frame.body);
        for part in &frame.tail {
            dst.put_body(part);
        }
        Ok(())
    }
}

impl Encoder<DubboFrame> for DubboCodec {
    type Error = CodecError;

    fn encode(&mut self, frame: DubboFrame, dst: &mut BytesMut) -> Result<(), CodecError> {
        dst.reserve(DUBBO_HEADER_LEN + frame.body_len());
        self.encode_into(frame, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dubbo::FLAG_REQUEST;

    #[test]
    fn the_header_of_a_large_body_reserves_little_until_its_bytes_arrive() {
        let mut codec = DubboCodec::new(8 << 20);
        let header = DubboHeader { flags: FLAG_REQUEST | 2, status: 0, id: 1, body_len: 8 << 20 };
        let mut buf = BytesMut::from(&header.to_bytes()[..]);
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
        assert!(buf.capacity() < 1 << 20, "reserved {} bytes for a 16-byte header", buf.capacity());
    }

    #[test]
    fn a_frame_length_is_known_once_its_header_arrived_and_only_within_the_limit() {
        let codec = DubboCodec::new(100);
        let header = DubboHeader { flags: FLAG_REQUEST | 2, status: 0, id: 1, body_len: 100 }.to_bytes();
        assert_eq!(codec.frame_len(&header[..DUBBO_HEADER_LEN - 1]), None);
        assert_eq!(codec.frame_len(&header), Some(DUBBO_HEADER_LEN + 100));
        let over = DubboHeader { flags: FLAG_REQUEST | 2, status: 0, id: 1, body_len: 101 }.to_bytes();
        assert_eq!(codec.frame_len(&over), None, "refused by decoding, not read toward");
        assert_eq!(codec.frame_len(&[0; DUBBO_HEADER_LEN]), None, "bad magic");
    }

    #[test]
    fn frames_round_trip_and_oversized_bodies_are_skipped() {
        let mut codec = DubboCodec::new(4);
        let frame = DubboFrame::new(
            DubboHeader { flags: FLAG_REQUEST | 2, status: 0, id: -5, body_len: 0 },
            Bytes::from_static(b"N"),
        );
        let mut wire = BytesMut::new();
        codec.encode(frame.clone(), &mut wire).unwrap();
        // A 2 GiB body claimed, then a good frame after the 10 bytes that did arrive.
        let mut big = DubboHeader { flags: FLAG_REQUEST | 2, status: 0, id: 9, body_len: 10 }.to_bytes().to_vec();
        big.extend_from_slice(&[0; 10]);
        wire.extend_from_slice(&big);
        codec.encode(frame.clone(), &mut wire).unwrap();
        let mut expected_frame = frame.clone();
        expected_frame.header.body_len = 1;
        assert_eq!(codec.decode(&mut wire).unwrap(), Some(DubboInbound::Frame(expected_frame.clone())));
        assert!(
            matches!(codec.decode(&mut wire).unwrap(), Some(DubboInbound::TooLarge { header, .. }) if header.id == 9)
        );
        assert_eq!(codec.decode(&mut wire).unwrap(), Some(DubboInbound::Frame(expected_frame)));
        assert_eq!(codec.decode(&mut wire).unwrap(), None);
        let mut garbage = BytesMut::from(&[0xda, 0xbc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0][..]);
        assert!(matches!(codec.decode(&mut garbage), Err(CodecError::DubboBadMagic { found: 0xdabc })));
        let too_big = DubboFrame { body: Bytes::from_static(b"12345"), ..frame.clone() };
        assert!(codec.encode(too_big, &mut BytesMut::new()).is_err());
        // A body in parts is written as one, and its length counts them all.
        let parts = [Bytes::from_static(b"\x91"), Bytes::from_static(b"\x01"), Bytes::from_static(b"")];
        let mut wire = BytesMut::new();
        DubboCodec::new(8).encode(DubboFrame::from_parts(frame.header, parts), &mut wire).unwrap();
        let read = DubboCodec::new(8).decode(&mut wire).unwrap();
        assert!(matches!(read, Some(DubboInbound::Frame(f)) if &f.body[..] == b"\x91\x01" && f.header.body_len == 2));
        let over = [Bytes::from_static(b"1234"), Bytes::from_static(b"5678"), Bytes::from_static(b"9")];
        assert!(DubboCodec::new(8).encode(DubboFrame::from_parts(frame.header, over), &mut BytesMut::new()).is_err());
    }
}
