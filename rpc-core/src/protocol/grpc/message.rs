//! gRPC's message framing inside an HTTP/2 stream: a compressed flag (u8), a big-endian
//! length (u32), then the message.

use bytes::{Buf, Bytes, BytesMut};

use super::compression::{Compressor, Encoding};
use crate::Status;

/// Bytes before each message: the compressed flag and the length.
pub(crate) const PREFIX_LEN: usize = 5;

/// A unary message ready to send as DATA: its prefix and, if short, the message copied
/// behind it in `first`; a long message stays where it is, in `rest`, and goes out as DATA
/// of its own (a 64 KiB message copied behind 5 bytes was a whole pass over it per call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Encoded {
    pub(crate) first: Bytes,
    pub(crate) rest: Option<Bytes>,
}

/// `message` with its prefix, ready to send; compressed if `compressor` finds it long enough.
pub(crate) fn encode(message: &Bytes, compressor: Option<Compressor>) -> Result<Encoded, Status> {
    let (flag, message) = match compressor.map(|c| c.compress(message)).transpose()?.flatten() {
        Some(compressed) => (1, compressed),
        None => (0, message.clone()),
    };
    if message.len() < rpc_codec::INLINE_BODY_MAX {
        let mut out = BytesMut::with_capacity(PREFIX_LEN + message.len());
        out.extend_from_slice(&prefix(flag, message.len())?);
        out.extend_from_slice(&message);
        return Ok(Encoded { first: out.freeze(), rest: None });
    }
    let first = Bytes::copy_from_slice(&prefix(flag, message.len())?);
    Ok(Encoded { first, rest: Some(message) })
}

/// Appends `message` with its prefix to `out`, compressed if `compressor` finds it long enough.
pub(crate) fn encode_into(message: &[u8], compressor: Option<Compressor>, out: &mut BytesMut) -> Result<(), Status> {
    let compressed = compressor.map(|c| c.compress(message)).transpose()?.flatten();
    let (flag, message) = match &compressed {
        Some(compressed) => (1, &compressed[..]),
        None => (0, message),
    };
    out.reserve(PREFIX_LEN + message.len());
    out.extend_from_slice(&prefix(flag, message.len())?);
    out.extend_from_slice(message);
    Ok(())
}

/// The prefix of a message of `len` bytes, compressed if `flag` is 1.
fn prefix(flag: u8, len: usize) -> Result<[u8; PREFIX_LEN], Status> {
    let len = u32::try_from(len)
        .map_err(|_| Status::resource_exhausted(format!("message of {len} bytes exceeds gRPC's 4 GiB")))?;
    let [a, b, c, d] = len.to_be_bytes();
    Ok([flag, a, b, c, d])
}

/// How the messages of a unary body are read: in which encoding, up to what length.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reading {
    pub(crate) encoding: Encoding,
    /// The longest message accepted once decompressed.
    pub(crate) limit: usize,
}

impl Reading {
    /// Uncompressed messages of any length (tests, and callers that bounded the body).
    #[cfg(test)]
    pub(crate) const PLAIN: Reading = Reading { encoding: Encoding::Identity, limit: usize::MAX };
}

/// The single message of a unary call's body, decompressed as `reading` says. Total over any
/// input: a truncated prefix or message, a message flagged compressed without an encoding or
/// corrupt in it, no message, or a second non-empty message are errors. An empty message after the first is tolerated — some
/// clients send one before closing their side.
pub(crate) fn decode_unary(mut body: Bytes, what: &str, reading: Reading) -> Result<Bytes, Status> {
    let (flag, message) =
        next(&mut body, what)?.ok_or_else(|| Status::invalid_argument(format!("{what}: no message")))?;
    while let Some((_, extra)) = next(&mut body, what)? {
        if !extra.is_empty() {
            return Err(Status::invalid_argument(format!("{what}: more than one message for a unary method")));
        }
    }
    reading.encoding.decode(flag, message, reading.limit, what)
}

/// The single message of a unary body that arrived in `chunks` (see [`decode_unary`]). A
/// message that came in a chunk of its own, after its prefix (how `encode` sends a long one,
/// when the peer's frames are large enough), is taken as it is; otherwise the chunks are
/// joined first.
pub(crate) fn decode_unary_chunks(chunks: Vec<Bytes>, what: &str, reading: Reading) -> Result<Bytes, Status> {
    if let [head, message] = &chunks[..] {
        if prefix(0, message.len()).is_ok_and(|prefix| head[..] == prefix) {
            return Ok(message.clone());
        }
    }
    decode_unary(crate::protocol::request_body::concat(chunks), what, reading)
}

/// The next whole message of `body` with its compressed flag (0 or 1), or `None` when it is empty.
pub(crate) fn next(body: &mut Bytes, what: &str) -> Result<Option<(u8, Bytes)>, Status> {
    if body.is_empty() {
        return Ok(None);
    }
    if body.len() < PREFIX_LEN {
        return Err(Status::invalid_argument(format!("{what}: truncated message prefix ({} bytes)", body.len())));
    }
    let flag = body[0];
    let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    if flag > 1 {
        return Err(Status::invalid_argument(format!("{what}: bad compressed flag {flag}")));
    }
    if body.len() - PREFIX_LEN < len {
        return Err(Status::invalid_argument(format!(
            "{what}: truncated message ({} of {len} bytes)",
            body.len() - PREFIX_LEN
        )));
    }
    body.advance(PREFIX_LEN);
    Ok(Some((flag, body.split_to(len))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code;

    fn framed(message: &[u8]) -> Bytes {
        let mut out = BytesMut::new();
        encode_into(message, None, &mut out).unwrap();
        out.freeze()
    }

    #[test]
    fn a_message_round_trips() {
        let encoded = encode(&Bytes::from_static(b"hello"), None).unwrap();
        assert_eq!((&encoded.first[..], encoded.rest), (&b"\0\0\0\0\x05hello"[..], None));
        assert_eq!(decode_unary(encoded.first, "request", Reading::PLAIN).unwrap(), Bytes::from_static(b"hello"));
    }

    #[test]
    fn a_long_message_is_sent_and_taken_without_a_copy_and_any_split_decodes() {
        let message = Bytes::from((0..100_000u32).map(|i| (i % 251) as u8).collect::<Vec<_>>());
        let encoded = encode(&message, None).unwrap();
        assert_eq!(&encoded.first[..], &[0, 0, 1, 0x86, 0xa0][..]);
        let rest = encoded.rest.clone().expect("the message apart from its prefix");
        assert_eq!(rest.as_ptr(), message.as_ptr(), "not copied to be sent");
        let taken = decode_unary_chunks(vec![encoded.first.clone(), rest], "request", Reading::PLAIN).unwrap();
        assert_eq!(taken.as_ptr(), message.as_ptr(), "not copied when received in one chunk");
        // Split anywhere else (a peer with small frames), it is joined and decoded the same.
        let wire = framed(&message);
        for cuts in [vec![3], vec![5, 16_389], vec![1, 2, 70_000], vec![wire.len() - 1]] {
            let mut chunks = Vec::new();
            let mut at = 0;
            for cut in cuts.into_iter().chain([wire.len()]) {
                chunks.push(wire.slice(at..cut));
                at = cut;
            }
            assert_eq!(decode_unary_chunks(chunks, "request", Reading::PLAIN).unwrap(), message);
        }
        // A prefix chunk that does not announce its neighbour's length is not trusted.
        let short = decode_unary_chunks(
            vec![framed(b"")[..].to_vec().into(), Bytes::from_static(b"x")],
            "request",
            Reading::PLAIN,
        );
        assert_eq!(short.unwrap_err().code(), Code::InvalidArgument);
    }

    #[test]
    fn a_trailing_empty_message_is_tolerated_but_not_a_second_one() {
        let mut two = BytesMut::new();
        two.extend_from_slice(&framed(b"a"));
        two.extend_from_slice(&framed(b""));
        assert_eq!(decode_unary(two.clone().freeze(), "request", Reading::PLAIN).unwrap(), Bytes::from_static(b"a"));
        two.extend_from_slice(&framed(b"b"));
        assert_eq!(decode_unary(two.freeze(), "request", Reading::PLAIN).unwrap_err().code(), Code::InvalidArgument);
    }

    #[test]
    fn bad_bodies_are_errors() {
        let cases: [(&[u8], Code); 5] = [
            (b"", Code::InvalidArgument),
            (b"\0\0\0", Code::InvalidArgument),
            (b"\0\0\0\0\x09abc", Code::InvalidArgument),
            (b"\x01\0\0\0\x01a", Code::Internal),
            (b"\x07\0\0\0\x01a", Code::InvalidArgument),
        ];
        for (body, code) in cases {
            assert_eq!(
                decode_unary(Bytes::from_static(body), "request", Reading::PLAIN).unwrap_err().code(),
                code,
                "{body:?}"
            );
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
            let _ = decode_unary(Bytes::from(bytes), "request", Reading::PLAIN);
        }
    }
}
