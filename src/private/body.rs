//! Where generated code serializes bodies: a per-thread block that bodies are split off.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::{Bytes, BytesMut};

/// Bytes of the per-thread block that bodies are serialized into and then split off.
const BODY_BLOCK: usize = 16 * 1024;

std::thread_local! {
    /// What is left of this thread's current body block.
    static BODY_ARENA: Cell<BytesMut> = Cell::new(BytesMut::with_capacity(BODY_BLOCK));
}

/// The size of the last body of one kind (one method's arguments or results), so the next
/// buffer has room for it instead of regrowing while serde writes.
///
/// Bodies are written into a per-thread block and split off it, so a block of 16 KiB
/// serves many small bodies with one allocation, and the body is shared (reference
/// counted) from the start: a copy kept for a retry is a counter increment, not the
/// allocation `Bytes` makes to share a body built from its own `Vec`. A block is freed
/// once the last body cut from it is dropped.
pub struct SizeHint(AtomicUsize);

impl SizeHint {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> SizeHint {
        SizeHint(AtomicUsize::new(64))
    }

    /// An empty buffer with room for a body of the usual size; give it back with
    /// [`finish`](Self::finish).
    pub fn buffer(&self) -> BytesMut {
        let hint = self.0.load(Ordering::Relaxed);
        let mut buffer = BODY_ARENA.with(Cell::take);
        if buffer.capacity() < hint {
            // Reuses the block in place if no body cut from it is alive, else starts a
            // new one.
            buffer.reserve(hint.max(BODY_BLOCK));
        }
        buffer
    }

    /// The body written into `buffer`; the rest of the block stays for the next one.
    pub fn finish(&self, mut buffer: BytesMut) -> Bytes {
        self.observe(buffer.len());
        let body = buffer.split().freeze();
        BODY_ARENA.with(|arena| arena.set(buffer));
        body
    }

    /// Records a body's size; writes only on a real change, to keep the line shared.
    fn observe(&self, len: usize) {
        let hint = self.0.load(Ordering::Relaxed);
        if len > hint || len < hint / 2 {
            self.0.store(len.max(16), Ordering::Relaxed);
        }
    }
}
