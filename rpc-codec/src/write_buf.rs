use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::buf::UninitSlice;
use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::CodecError;

/// Bodies at least this long are written from where they are (a slice of a vectored write)
/// instead of being copied behind their header: a 64 KiB body copied into the write buffer
/// cost one more pass over its bytes on each side. Shorter ones are copied, which is cheaper
/// than another slice for the kernel to walk.
pub const INLINE_BODY_MAX: usize = 16 * 1024;

/// Encoded frames waiting to be written: headers and short bodies copied into one buffer,
/// long bodies kept as the shared [`Bytes`] they already are, in order.
///
/// [`io_slices`](WriteBuf::io_slices) hands the whole queue to one vectored write (`writev`);
/// [`advance`](WriteBuf::advance) drops what the write took.
///
/// ```
/// use bytes::{BufMut, Bytes};
/// use rpc_codec::WriteBuf;
///
/// let mut out = WriteBuf::new();
/// out.put_slice(b"head");
/// out.put_body(&Bytes::from(vec![7u8; 64 * 1024]));
/// out.put_slice(b"next");
/// let mut slices = [std::io::IoSlice::new(&[]); 8];
/// assert_eq!(out.io_slices(&mut slices), 3, "the long body is its own slice, not a copy");
/// assert_eq!(out.len(), 4 + 64 * 1024 + 4);
/// out.advance(10);
/// assert_eq!(out.len(), 64 * 1024 - 2);
/// ```
#[derive(Debug, Default)]
pub struct WriteBuf {
    /// Whole parts before `tail`, oldest first: sealed runs of copied bytes and long bodies.
    sealed: VecDeque<Bytes>,
    /// Bytes copied since the last long body.
    tail: BytesMut,
    /// Bytes of `sealed` not yet written.
    sealed_len: usize,
}

impl WriteBuf {
    /// An empty buffer; it allocates on the first write.
    pub fn new() -> Self {
        WriteBuf::default()
    }

    /// Bytes waiting to be written.
    pub fn len(&self) -> usize {
        self.sealed_len + self.tail.len()
    }

    /// Nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a long body (one written from where it is) is waiting.
    pub fn holds_long_bodies(&self) -> bool {
        !self.sealed.is_empty()
    }

    /// The buffer copied bytes go to ([`BufMut`]'s writes on a `WriteBuf` land there).
    pub fn copied(&mut self) -> &mut BytesMut {
        &mut self.tail
    }

    /// Queues `body`: copied if shorter than [`INLINE_BODY_MAX`], else kept as it is, sharing
    /// its memory, until it is written.
    pub fn put_body(&mut self, body: &Bytes) {
        if body.len() < INLINE_BODY_MAX {
            self.tail.put_slice(body);
            return;
        }
        if !self.tail.is_empty() {
            let copied = self.tail.split().freeze();
            self.sealed_len += copied.len();
            self.sealed.push_back(copied);
        }
        self.sealed_len += body.len();
        self.sealed.push_back(body.clone());
    }

    /// Fills `slices` with the queue's parts, oldest first, as many as fit; returns how many.
    pub fn io_slices<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        let parts = self.sealed.iter().map(|part| &part[..]).chain(Some(&self.tail[..]));
        let mut filled = 0;
        for (slot, part) in slices.iter_mut().zip(parts.filter(|part| !part.is_empty())) {
            *slot = IoSlice::new(part);
            filled += 1;
        }
        filled
    }

    /// Drops the first `written` bytes (what a write took). Once everything is written the
    /// copy buffer starts again at the beginning of its allocation, if no part of it is still
    /// shared: a buffer that only ever moves forward would reach its end holding unsent
    /// frames and move them to make room.
    ///
    /// # Panics
    /// If `written` exceeds [`len`](WriteBuf::len): a writer never reports more than it took.
    pub fn advance(&mut self, mut written: usize) {
        assert!(written <= self.len(), "advanced {written} bytes of {}", self.len());
        while written > 0 {
            let Some(front) = self.sealed.front_mut() else {
                self.tail.advance(written);
                break;
            };
            let step = written.min(front.len());
            front.advance(step);
            self.sealed_len -= step;
            written -= step;
            if front.is_empty() {
                self.sealed.pop_front();
            }
        }
        if self.is_empty() {
            // Asks for one byte more than is left ahead, so it moves back if it can; only
            // reuses the allocation, never allocates.
            let ahead = self.tail.capacity();
            let _ = self.tail.try_reclaim(ahead + 1);
        }
    }
}

// Copied bytes (headers, metadata) go to the copy buffer behind everything queued.
unsafe impl BufMut for WriteBuf {
    fn remaining_mut(&self) -> usize {
        self.tail.remaining_mut()
    }

    unsafe fn advance_mut(&mut self, cnt: usize) {
        // SAFETY: the caller initialised `cnt` bytes of `chunk_mut`, which is the tail's.
        unsafe { self.tail.advance_mut(cnt) }
    }

    fn chunk_mut(&mut self) -> &mut UninitSlice {
        self.tail.chunk_mut()
    }

    // `BufMut`'s own `put_slice` (which its `put_u32` and the rest call) goes chunk by chunk
    // through `chunk_mut`; `BytesMut`'s reserves once and copies once. Inlined, so that the
    // fixed-size puts copy with a store rather than a call into `memmove`.
    #[inline]
    fn put_slice(&mut self, src: &[u8]) {
        self.tail.put_slice(src);
    }
}

/// Where an encoder writes a frame: a plain [`BytesMut`] (every byte copied) or a
/// [`WriteBuf`] (long bodies shared).
pub trait FrameSink: BufMut {
    /// Appends a frame's body.
    fn put_body(&mut self, body: &Bytes);
}

impl FrameSink for BytesMut {
    fn put_body(&mut self, body: &Bytes) {
        self.put_slice(body);
    }
}

impl FrameSink for WriteBuf {
    fn put_body(&mut self, body: &Bytes) {
        WriteBuf::put_body(self, body);
    }
}

/// A protocol's encoder, writing frames of type `T` into any [`FrameSink`]; the connection
/// writers use it with a [`WriteBuf`] so long bodies reach the socket without a copy.
pub trait EncodeInto<T> {
    /// Appends `item`'s encoding to `dst`; on an error nothing is written.
    fn encode_into<S: FrameSink>(&mut self, item: T, dst: &mut S) -> Result<(), CodecError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gather(buf: &WriteBuf) -> Vec<u8> {
        let mut slices = [IoSlice::new(&[]); 16];
        let n = buf.io_slices(&mut slices);
        slices[..n].iter().flat_map(|s| s.iter().copied()).collect()
    }

    #[test]
    fn parts_come_out_in_order_and_partial_writes_resume_where_they_stopped() {
        let long = Bytes::from((0..INLINE_BODY_MAX as u32 + 5).map(|i| i as u8).collect::<Vec<_>>());
        let mut buf = WriteBuf::new();
        buf.put_slice(b"h1");
        buf.put_body(&Bytes::from_static(b"short"));
        buf.put_slice(b"h2");
        buf.put_body(&long);
        buf.put_slice(b"h3");
        buf.put_body(&long);
        let mut expected = b"h1shorth2".to_vec();
        expected.extend_from_slice(&long);
        expected.extend_from_slice(b"h3");
        expected.extend_from_slice(&long);
        assert_eq!(gather(&buf), expected);
        // Writes that stop in the middle of every kind of part.
        let mut at = 0;
        for step in [3, 7, INLINE_BODY_MAX, 1, 2, 9] {
            buf.advance(step);
            at += step;
            assert_eq!(gather(&buf), expected[at..], "after {at} bytes");
        }
        buf.advance(buf.len());
        assert!(buf.is_empty());
        assert!(gather(&buf).is_empty());
    }

    #[test]
    fn a_long_body_is_shared_not_copied() {
        let long = Bytes::from(vec![1u8; INLINE_BODY_MAX]);
        let mut buf = WriteBuf::new();
        buf.put_slice(b"head");
        buf.put_body(&long);
        let mut slices = [IoSlice::new(&[]); 4];
        assert_eq!(buf.io_slices(&mut slices), 2);
        assert_eq!(slices[1].as_ptr(), long.as_ptr());
    }

    #[test]
    fn an_emptied_buffer_starts_over_at_its_allocation() {
        let mut buf = WriteBuf::new();
        buf.copied().reserve(4096);
        let start = buf.copied().as_ptr();
        buf.put_slice(&[0; 3000]);
        buf.advance(2000);
        assert_eq!(buf.copied().as_ptr(), start.wrapping_add(2000), "not empty yet: it only moves on");
        buf.advance(1000);
        buf.put_slice(&[1; 3000]);
        assert_eq!(buf.copied().as_ptr(), start, "emptied, it started over: no move, no new allocation");
        // A long body in between splits the copied bytes; once all is written it starts over too.
        buf.put_body(&Bytes::from(vec![2u8; INLINE_BODY_MAX]));
        buf.put_slice(b"after");
        buf.advance(buf.len());
        buf.put_slice(b"again");
        assert_eq!(buf.copied().as_ptr(), start);
    }
}
