use bytes::{BufMut, BytesMut};
use rpc_codec::{CodecError, FrameLength};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_util::codec::Decoder;

/// What the first read of a connection offers the socket: an idle connection holds no more.
const FIRST_READ: usize = 8 * 1024;

/// What a read offers at most. Sixteen 1 KiB calls arrive as 17 KiB; offered 8 KiB at a time
/// (tokio-util's `FramedRead`, whose reads take whatever room is left in its buffer, often a
/// few hundred bytes), a server made three reads per batch where one does.
const MAX_READ: usize = 64 * 1024;

/// Frames at least this long are read to their end and no further: the next frame then
/// starts in a buffer of its own. Read on into the same buffer, its first bytes would sit
/// behind the long frame, whose caller keeps that buffer alive, and completing the next frame
/// would copy them into a new one — at 64 KiB calls that copy and the fresh pages it touched
/// were a tenth of the client's time. One more read per long frame costs far less.
const LONG_FRAME: usize = 16 * 1024;

/// The largest buffer made up front to fit a frame as long as the last one: beyond it, a
/// frame's buffer grows as its bytes arrive (the codec's `reserve_toward`).
const MAX_FIT: usize = 2 * MAX_READ;

/// Decodes frames (`C`'s items) from a connection's read half: one end of every multiplexed
/// protocol's connection, used by the client's read loop and the server's connection loop.
///
/// While reads fill the room they are offered, each read is offered twice as much (up to
/// 64 KiB), halving again when reads take less than a quarter, so a busy connection drains
/// its socket in one read per batch; a quiet one reads into what its 8 KiB buffer has left,
/// as tokio-util's `FramedRead` does. A long frame is read up to its end only, into a buffer
/// sized for it when the frame before was as long, so its bytes are never copied.
pub(crate) struct FrameReader<R, C> {
    io: R,
    codec: C,
    buffer: BytesMut,
    /// Room the next read offers.
    read_size: usize,
    /// The length of the last frame decoded if it was long (at most [`MAX_FIT`]), else 0: a
    /// new buffer is made this large, so that a frame of the same length fits it whole.
    fit: usize,
    /// The length of the last long frame decoded, however long. A frame no longer than it
    /// gets all its room when its header arrives; a longer one gets room as its bytes arrive
    /// (the codec's `reserve_toward`, which doubles the buffer and copies what it holds each
    /// time: at 1 MiB calls three quarters of a megabyte per frame). Either way a connection
    /// holds room for no more than twice what it has received of a frame, or than a frame
    /// it has already received whole.
    trusted: usize,
    eof: bool,
}

impl<R: AsyncRead + Unpin, C: Decoder<Error = CodecError> + FrameLength> FrameReader<R, C> {
    pub(crate) fn new(io: R, codec: C) -> Self {
        FrameReader { io, codec, buffer: BytesMut::new(), read_size: FIRST_READ, fit: 0, trusted: 0, eof: false }
    }

    pub(crate) fn decoder(&self) -> &C {
        &self.codec
    }

    /// Bytes read and not yet decoded (part of a frame).
    pub(crate) fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// The next item; `None` once the peer has closed and every whole frame was decoded.
    ///
    /// Cancel-safe: what a read took stays in the buffer for the next call.
    pub(crate) async fn next(&mut self) -> Option<Result<C::Item, CodecError>> {
        loop {
            if self.eof {
                return self.codec.decode_eof(&mut self.buffer).transpose();
            }
            self.make_room_for_a_trusted_frame();
            let before = self.buffer.len();
            match self.codec.decode(&mut self.buffer) {
                Ok(Some(item)) => {
                    let taken = before - self.buffer.len();
                    self.fit = if taken >= LONG_FRAME { taken.min(MAX_FIT) } else { 0 };
                    if taken >= LONG_FRAME {
                        self.trusted = taken;
                    }
                    return Some(Ok(item));
                }
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
            if let Err(e) = self.read().await {
                return Some(Err(e.into()));
            }
        }
    }

    /// Makes room for the whole of a long frame begun in the buffer if it is no longer than
    /// [`Self::trusted`], before the codec would make room for part of it. A connection that
    /// never carried a long frame does not parse the header a second time.
    fn make_room_for_a_trusted_frame(&mut self) {
        if self.trusted == 0 {
            return;
        }
        let Some(len) = self.codec.frame_len(&self.buffer) else { return };
        let held = self.buffer.len();
        if len >= LONG_FRAME && len <= self.trusted && self.buffer.capacity() < len {
            self.buffer.reserve(len - held);
        }
    }

    async fn read(&mut self) -> std::io::Result<()> {
        let held = self.buffer.len();
        // What is still to come of a long frame already begun: the read stops there. The
        // codec has made room toward it, in step with what has arrived.
        let long_rest = self.codec.frame_len(&self.buffer).filter(|&len| len >= LONG_FRAME).map(|len| len - held);
        let room = self.buffer.capacity() - held;
        // Room is made only when none is left, reads have been filling it, or a new buffer
        // is due for a long frame: a decoded reply still held by its caller keeps the buffer
        // shared, and making room then allocates a new one, which at one call in flight
        // would be once per call.
        if room == 0
            || (long_rest.is_none() && self.read_size > FIRST_READ && room < self.read_size)
            || (held == 0 && room < self.fit)
        {
            // `reserve` moves a partial frame to the front of the allocation when nothing
            // else holds it, else allocates anew, at least as large as the buffer was made.
            // Allocating just what is wanted whenever the buffer was empty or shared had
            // glibc hand each batch's buffer back to the kernel after use: at 1 KiB, 256 in
            // flight over 16 connections, the client took 65,000-112,000 page faults in 2 s
            // (about 1,000 with `reserve`) and the run lost a fifth of its QPS.
            self.buffer.reserve(self.read_size.max(self.fit));
        }
        let room = self.buffer.capacity() - held;
        let offered = long_rest.map_or(room, |rest| rest.min(room));
        let read = self.io.read_buf(&mut (&mut self.buffer).limit(offered)).await?;
        if read == 0 {
            self.eof = true;
        } else if long_rest.is_some() {
            // Cut short on purpose: says nothing about how busy the connection is.
        } else if read == offered {
            self.read_size = (self.read_size * 2).min(MAX_READ);
        } else if read < self.read_size / 4 {
            self.read_size = (self.read_size / 2).max(FIRST_READ);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use rpc_codec::{EncodeInto, Frame, FrameCodec, Inbound, Metadata};
    use tokio::io::AsyncWriteExt;

    use super::*;

    fn frame(id: u64, body: usize) -> Frame {
        Frame::request(id, Metadata::call("svc", "m"), Bytes::from(vec![id as u8; body]))
    }

    fn encoded(frames: impl IntoIterator<Item = Frame>) -> Vec<u8> {
        let mut wire = BytesMut::new();
        for frame in frames {
            FrameCodec::default().encode_into(frame, &mut wire).expect("encodes");
        }
        wire.to_vec()
    }

    async fn ids<R: AsyncRead + Unpin>(reader: &mut FrameReader<R, FrameCodec>) -> Vec<u64> {
        let mut ids = Vec::new();
        while let Some(item) = reader.next().await {
            match item.expect("decodes") {
                Inbound::Frame(frame) => ids.push(frame.request_id),
                Inbound::Rejected { header, .. } => panic!("rejected {header:?}"),
            }
        }
        ids
    }

    #[tokio::test]
    async fn a_batch_is_read_whole_and_in_order_however_the_bytes_arrive() {
        let wire = encoded((0..40).map(|id| frame(id, 1000 + id as usize * 97)));
        let (mut tx, rx) = tokio::io::duplex(1024);
        let writer = tokio::spawn(async move {
            // Uneven pieces, so frames straddle reads.
            for piece in wire.chunks(777) {
                tx.write_all(piece).await.expect("writes");
            }
        });
        let mut reader = FrameReader::new(rx, FrameCodec::default());
        assert_eq!(ids(&mut reader).await, (0..40).collect::<Vec<_>>());
        writer.await.expect("writer");
    }

    #[tokio::test]
    async fn reads_grow_while_they_fill_the_buffer_and_stay_bounded() {
        let wire = encoded((0..200).map(|id| frame(id, 1024)));
        let mut reader = FrameReader::new(&wire[..], FrameCodec::default());
        assert_eq!(ids(&mut reader).await.len(), 200);
        assert_eq!(reader.read_size, MAX_READ, "every read filled what it offered");
        assert!(reader.buffer.capacity() <= 2 * MAX_READ, "{}", reader.buffer.capacity());
    }

    #[tokio::test]
    async fn a_long_frame_is_read_to_its_end_and_the_next_gets_a_buffer_it_fits() {
        let long = 64 * 1024;
        let wire = encoded((0..6).map(|id| frame(id, long)));
        let frame_len = wire.len() / 6;
        // Everything is readable at once: only the reader's own limits end a read.
        let mut reader = FrameReader::new(&wire[..], FrameCodec::default());
        for id in 0..6 {
            match reader.next().await {
                Some(Ok(Inbound::Frame(frame))) => assert_eq!(frame.request_id, id),
                other => panic!("frame {id}: {other:?}"),
            }
            assert_eq!(reader.buffered(), 0, "nothing of the frame after {id} was read with it");
            assert_eq!(reader.fit, frame_len);
        }
        assert!(reader.next().await.is_none());
    }

    #[tokio::test]
    async fn a_frame_no_longer_than_one_received_whole_gets_all_its_room_at_once() {
        let megabyte = 1 << 20;
        let first = encoded([frame(0, megabyte)]);
        let second = encoded([frame(1, megabyte)]);
        let mut wire = first.clone();
        wire.extend_from_slice(&second[..4096]);

        let mut untrusting = FrameReader::new(&[][..], FrameCodec::default());
        untrusting.buffer.extend_from_slice(&second[..4096]);
        untrusting.make_room_for_a_trusted_frame();
        assert!(untrusting.buffer.capacity() < second.len() / 4, "a peer's first long frame gets room as it arrives");

        let mut reader = FrameReader::new(&wire[..], FrameCodec::default());
        assert!(matches!(reader.next().await, Some(Ok(Inbound::Frame(f))) if f.request_id == 0));
        assert_eq!(reader.trusted, first.len());
        reader.read().await.expect("reads");
        assert_eq!(reader.buffered(), 4096);
        reader.make_room_for_a_trusted_frame();
        assert!(reader.buffer.capacity() >= second.len(), "{}", reader.buffer.capacity());
    }

    #[tokio::test]
    async fn bytes_left_at_the_end_are_an_error_not_a_frame() {
        let mut wire = encoded([frame(1, 10)]);
        wire.truncate(wire.len() - 3);
        let mut reader = FrameReader::new(&wire[..], FrameCodec::default());
        assert!(matches!(reader.next().await, Some(Err(_))));
    }
}
