use bytes::{Buf, BufMut};

use crate::CodecError;

/// The first two bytes of every frame. The first byte is not ASCII, so a listener can tell this
/// protocol from HTTP/2's `PRI * HTTP/2.0` preface by one byte.
pub const MAGIC: u16 = 0xD8B5;
/// The protocol version this build speaks.
pub const VERSION: u8 = 1;
/// Size of the fixed header in bytes.
pub const HEADER_LEN: usize = 24;

/// The flags byte of a frame header.
///
/// ```
/// # mod rpc { pub mod codec { pub use rpc_codec::*; } }
/// use rpc::codec::Flags;
/// let flags = Flags::REQUEST | Flags::ONEWAY;
/// assert!(flags.is_request() && flags.is_oneway() && !flags.is_event());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(u8);

impl Flags {
    /// No flag: a response.
    pub const RESPONSE: Flags = Flags(0);
    /// The frame is a request (unset: a response).
    pub const REQUEST: Flags = Flags(0x01);
    /// A request that expects no response.
    pub const ONEWAY: Flags = Flags(0x02);
    /// A control frame (heartbeat, go-away) rather than a call; see [`crate::EventKind`].
    pub const EVENT: Flags = Flags(0x04);
    /// Part of a stream (reserved for streaming calls).
    pub const STREAM: Flags = Flags(0x08);
    /// The last frame of a stream (reserved for streaming calls).
    pub const END_STREAM: Flags = Flags(0x10);
    const KNOWN: u8 = 0x1f;

    /// Flags from a raw byte; bits this version does not define are dropped.
    pub const fn from_bits(bits: u8) -> Flags {
        Flags(bits & Self::KNOWN)
    }
    /// The flags as the header's byte.
    pub const fn bits(self) -> u8 {
        self.0
    }
    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
    /// A request (as opposed to a response).
    pub const fn is_request(self) -> bool {
        self.contains(Self::REQUEST)
    }
    /// A request that expects no response.
    pub const fn is_oneway(self) -> bool {
        self.contains(Self::ONEWAY)
    }
    /// A control frame (heartbeat, go-away, window, cancel), not a call.
    pub const fn is_event(self) -> bool {
        self.contains(Self::EVENT)
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl std::fmt::Debug for Flags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = [
            (Self::REQUEST, "REQUEST"),
            (Self::ONEWAY, "ONEWAY"),
            (Self::EVENT, "EVENT"),
            (Self::STREAM, "STREAM"),
            (Self::END_STREAM, "END_STREAM"),
        ];
        let set: Vec<&str> = names.iter().filter(|(flag, _)| self.contains(*flag)).map(|(_, name)| *name).collect();
        if set.is_empty() {
            f.write_str("Flags(RESPONSE)")
        } else {
            write!(f, "Flags({})", set.join(" | "))
        }
    }
}

/// The fixed 24-byte header that starts every frame (big-endian):
///
/// ```text
/// magic u16 | version u8 | flags u8 | serialization u8 | status u8 | reserved u16
/// request id u64 | metadata length u32 | body length u32
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Request, response, oneway, event and stream flags.
    pub flags: Flags,
    /// The serialization id of the body; checked by the receiver, not the framing.
    pub serialization: u8,
    /// The status code of a response (0 in requests).
    pub status: u8,
    /// Pairs a response with its request.
    pub request_id: u64,
    /// Bytes of the metadata section that follows the header.
    pub metadata_len: u32,
    /// Bytes of the body that follows the metadata.
    pub body_len: u32,
}

impl FrameHeader {
    /// Bytes after the fixed header.
    pub fn payload_len(&self) -> u64 {
        u64::from(self.metadata_len) + u64::from(self.body_len)
    }

    /// Reads a header from the first [`HEADER_LEN`] bytes of `src`, which must hold at least that
    /// many. Fails only on a wrong magic or version, which make the stream unreadable.
    pub fn parse(mut src: &[u8]) -> Result<FrameHeader, CodecError> {
        debug_assert!(src.len() >= HEADER_LEN);
        let magic = src.get_u16();
        if magic != MAGIC {
            return Err(CodecError::BadMagic { found: magic });
        }
        let version = src.get_u8();
        if version != VERSION {
            return Err(CodecError::UnsupportedVersion { found: version });
        }
        let flags = Flags::from_bits(src.get_u8());
        let serialization = src.get_u8();
        let status = src.get_u8();
        let _reserved = src.get_u16();
        Ok(FrameHeader {
            flags,
            serialization,
            status,
            request_id: src.get_u64(),
            metadata_len: src.get_u32(),
            body_len: src.get_u32(),
        })
    }

    /// Writes the header's 24 bytes.
    pub fn write(&self, dst: &mut impl BufMut) {
        // Assembled here and put at once: field by field, each `put_*` was a call into
        // `memmove` of one to eight bytes, seven per frame.
        let mut header = [0u8; HEADER_LEN];
        header[..2].copy_from_slice(&MAGIC.to_be_bytes());
        header[2] = VERSION;
        header[3] = self.flags.bits();
        header[4] = self.serialization;
        header[5] = self.status;
        // Bytes 6 and 7 are reserved: zero.
        header[8..16].copy_from_slice(&self.request_id.to_be_bytes());
        header[16..20].copy_from_slice(&self.metadata_len.to_be_bytes());
        header[20..24].copy_from_slice(&self.body_len.to_be_bytes());
        dst.put_slice(&header);
    }
}
