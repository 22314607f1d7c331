/// A framing that tells, from the first bytes of a frame, how long the whole frame is on the
/// wire. A reader uses it to end a read where a long frame ends, so that the next frame
/// starts in a buffer of its own instead of at the tail of one the long frame's bytes keep
/// alive (moving that tail is a copy of up to a whole frame).
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use rpc_codec::{EncodeInto, Frame, FrameCodec, FrameLength, Metadata};
///
/// let mut wire = BytesMut::new();
/// let frame = Frame::request(1, Metadata::call("svc", "m"), Bytes::from(vec![0; 100]));
/// FrameCodec::default().encode_into(frame, &mut wire).unwrap();
/// let codec = FrameCodec::default();
/// assert_eq!(codec.frame_len(&wire[..30]), Some(wire.len()));
/// assert_eq!(codec.frame_len(&wire[..3]), None, "the header has not arrived");
/// ```
pub trait FrameLength {
    /// The length of the frame `src` starts with, its header included, once the header has
    /// arrived. `None` before that, and for a header the decoder will refuse (bad magic, over
    /// the size limit) or bytes it is skipping: decoding reports those.
    fn frame_len(&self, src: &[u8]) -> Option<usize>;
}
