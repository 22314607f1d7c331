use bytes::BytesMut;

/// The most a decoder reserves for a frame beyond the bytes it already holds of it.
pub const RESERVE_STEP: usize = 256 * 1024;

/// Makes room in `buf` toward a frame of `frame_len` bytes that is still arriving, in step
/// with what has arrived: at most as much again as `buf` holds (at least [`RESERVE_STEP`]),
/// never past the frame. A peer that announces a large frame and sends little of it so gets
/// little memory, where reserving the announced length at once let a few bytes per connection
/// claim megabytes each; an honest large frame costs a few doublings of the buffer instead of
/// one allocation.
///
/// ```
/// use bytes::BytesMut;
/// let mut buf = BytesMut::from(&[0u8; 24][..]);
/// rpc_codec::reserve_toward(&mut buf, 8 << 20);
/// assert!(buf.capacity() < 1 << 20, "an 8 MiB announcement reserves far less");
/// ```
pub fn reserve_toward(buf: &mut BytesMut, frame_len: usize) {
    let missing = frame_len.saturating_sub(buf.len());
    let wanted = missing.min(buf.len().max(RESERVE_STEP));
    if buf.capacity() - buf.len() < wanted {
        buf.reserve(wanted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buffer_grows_with_the_bytes_that_arrive_up_to_the_frame() {
        let frame = 8 << 20;
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&[0; 24]);
        reserve_toward(&mut buf, frame);
        assert!(buf.capacity() <= 2 * RESERVE_STEP, "{}", buf.capacity());
        // Filling what was reserved and asking again at most doubles it.
        let mut reservations = 0;
        while buf.len() < frame {
            let before = buf.capacity();
            let room = (buf.capacity() - buf.len()).min(frame - buf.len());
            buf.extend_from_slice(&vec![0; room]);
            reserve_toward(&mut buf, frame);
            assert!(buf.capacity() <= 2 * before.max(buf.len()) + RESERVE_STEP, "{} after {before}", buf.capacity());
            reservations += 1;
        }
        assert_eq!(buf.len(), frame);
        assert!(reservations <= 8, "{reservations} steps for 8 MiB");
        // A frame already held needs nothing.
        let capacity = buf.capacity();
        reserve_toward(&mut buf, frame);
        assert_eq!(buf.capacity(), capacity);
    }
}
