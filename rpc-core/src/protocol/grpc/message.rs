//! gRPC's message framing inside an HTTP/2 stream: a compressed flag (u8), a big-endian
//! length (u32), then the message.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::Status;

/// Bytes before each message: the compressed flag and the length.
pub(crate) const PREFIX_LEN: usize = 5;

/// `message` with its prefix, ready to send as DATA.
pub(crate) fn encode(message: &[u8]) -> Result<Bytes, Status> {
    let mut out = BytesMut::with_capacity(PREFIX_LEN + message.len());
    encode_into(message, &mut out)?;
    Ok(out.freeze())
}

/// Appends `message` with its prefix to `out`.
pub(crate) fn encode_into(message: &[u8], out: &mut BytesMut) -> Result<(), Status> {
    let len = u32::try_from(message.len())
        .map_err(|_| Status::resource_exhausted(format!("message of {} bytes exceeds gRPC's 4 GiB", message.len())))?;
    out.reserve(PREFIX_LEN + message.len());
    out.put_u8(0);
    out.put_u32(len);
    out.extend_from_slice(message);
    Ok(())
}

/// The single message of a unary call's body. Total over any input: a truncated prefix or
/// message, a compressed message (no `grpc-encoding` is negotiated), no message, or a second
/// non-empty message are errors. An empty message after the first is tolerated — some
/// clients send one before closing their side.
pub(crate) fn decode_unary(mut body: Bytes, what: &str) -> Result<Bytes, Status> {
    let message = next(&mut body, what)?.ok_or_else(|| Status::invalid_argument(format!("{what}: no message")))?;
    while let Some(extra) = next(&mut body, what)? {
        if !extra.is_empty() {
            return Err(Status::invalid_argument(format!("{what}: more than one message for a unary method")));
        }
    }
    Ok(message)
}

/// The next whole message of `body`, or `None` when it is empty.
pub(crate) fn next(body: &mut Bytes, what: &str) -> Result<Option<Bytes>, Status> {
    if body.is_empty() {
        return Ok(None);
    }
    if body.len() < PREFIX_LEN {
        return Err(Status::invalid_argument(format!("{what}: truncated message prefix ({} bytes)", body.len())));
    }
    let compressed = body[0];
    let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    match compressed {
        0 => {}
        1 => return Err(Status::unimplemented(format!("{what}: compressed messages are not supported"))),
        flag => return Err(Status::invalid_argument(format!("{what}: bad compressed flag {flag}"))),
    }
    if body.len() - PREFIX_LEN < len {
        return Err(Status::invalid_argument(format!(
            "{what}: truncated message ({} of {len} bytes)",
            body.len() - PREFIX_LEN
        )));
    }
    body.advance(PREFIX_LEN);
    Ok(Some(body.split_to(len)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code;

    #[test]
    fn a_message_round_trips() {
        let framed = encode(b"hello").unwrap();
        assert_eq!(&framed[..], b"\0\0\0\0\x05hello");
        assert_eq!(decode_unary(framed, "request").unwrap(), Bytes::from_static(b"hello"));
    }

    #[test]
    fn a_trailing_empty_message_is_tolerated_but_not_a_second_one() {
        let mut two = BytesMut::new();
        two.extend_from_slice(&encode(b"a").unwrap());
        two.extend_from_slice(&encode(b"").unwrap());
        assert_eq!(decode_unary(two.clone().freeze(), "request").unwrap(), Bytes::from_static(b"a"));
        two.extend_from_slice(&encode(b"b").unwrap());
        assert_eq!(decode_unary(two.freeze(), "request").unwrap_err().code(), Code::InvalidArgument);
    }

    #[test]
    fn bad_bodies_are_errors() {
        let cases: [(&[u8], Code); 5] = [
            (b"", Code::InvalidArgument),
            (b"\0\0\0", Code::InvalidArgument),
            (b"\0\0\0\0\x09abc", Code::InvalidArgument),
            (b"\x01\0\0\0\x01a", Code::Unimplemented),
            (b"\x07\0\0\0\x01a", Code::InvalidArgument),
        ];
        for (body, code) in cases {
            assert_eq!(decode_unary(Bytes::from_static(body), "request").unwrap_err().code(), code, "{body:?}");
        }
    }

    proptest::proptest! {
        /// Total: any bytes give a message or a status. Half the cases start with a plausible
        /// prefix (flag 0 or 1 and a small length), so they reach past the header checks.
        #[test]
        fn any_bytes_decode_without_panicking(
            prefixed in proptest::bool::ANY,
            flag in 0u8..2,
            len in 0u32..64,
            rest in proptest::collection::vec(proptest::num::u8::ANY, 0..96),
        ) {
            let mut bytes = Vec::new();
            if prefixed {
                bytes.push(flag);
                bytes.extend_from_slice(&len.to_be_bytes());
            }
            bytes.extend_from_slice(&rest);
            let _ = decode_unary(Bytes::from(bytes), "request");
        }
    }
}
