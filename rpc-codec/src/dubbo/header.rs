//! The 16-byte dubbo2 header (Dubbo's `ExchangeCodec`): magic `0xdabb`, a flag byte, a status
//! byte, a 64-bit request id and a 32-bit body length, all big-endian.

/// The first two bytes of every dubbo2 frame.
pub const DUBBO_MAGIC: u16 = 0xdabb;
/// Bytes in a header.
pub const DUBBO_HEADER_LEN: usize = 16;
/// Dubbo's default `payload` limit: bodies over 8 MiB are refused.
pub const DEFAULT_PAYLOAD: usize = 8 * 1024 * 1024;
/// Hessian2's serialization id in the flag byte.
pub const HESSIAN2_SERIALIZATION: u8 = 2;

/// A request (else a response).
pub const FLAG_REQUEST: u8 = 0x80;
/// A request that wants a response.
pub const FLAG_TWOWAY: u8 = 0x40;
/// An event: a heartbeat (null body) or a string such as `"R"` (readonly).
pub const FLAG_EVENT: u8 = 0x20;
const SERIALIZATION_MASK: u8 = 0x1f;

/// Response status byte values (Dubbo's `Response` constants).
pub mod status {
    /// The call ran; the body is its result.
    pub const OK: u8 = 20;
    /// The response did not fit the payload limit.
    pub const SERIALIZATION_ERROR: u8 = 25;
    /// Client-side: timed out before sending.
    pub const CLIENT_TIMEOUT: u8 = 30;
    /// Client-side: timed out after sending.
    pub const SERVER_TIMEOUT: u8 = 31;
    /// The request body did not decode, or names no such method.
    pub const BAD_REQUEST: u8 = 40;
    /// The response could not be encoded.
    pub const BAD_RESPONSE: u8 = 50;
    /// No exported service matches (group or version).
    pub const SERVICE_ERROR: u8 = 70;
    /// The provider failed to dispatch the call.
    pub const SERVER_ERROR: u8 = 80;
    /// Client-side: the response did not decode.
    pub const CLIENT_ERROR: u8 = 90;
    /// The provider has no capacity for the call; it was not run.
    pub const SERVER_THREADPOOL_EXHAUSTED_ERROR: u8 = 100;
}

/// A parsed dubbo2 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DubboHeader {
    /// The flag byte: [`FLAG_REQUEST`], [`FLAG_TWOWAY`], [`FLAG_EVENT`] and the serialization id.
    pub flags: u8,
    /// The status byte; responses only.
    pub status: u8,
    /// The request id; Java starts from a random value, so it may be negative.
    pub id: i64,
    /// Body bytes after the header.
    pub body_len: u32,
}

impl DubboHeader {
    /// Parses a header; the error is the magic found instead of `0xdabb`.
    pub fn parse(src: &[u8; DUBBO_HEADER_LEN]) -> Result<DubboHeader, u16> {
        let magic = u16::from_be_bytes([src[0], src[1]]);
        if magic != DUBBO_MAGIC {
            return Err(magic);
        }
        let mut id = [0; 8];
        id.copy_from_slice(&src[4..12]);
        let body_len = u32::from_be_bytes([src[12], src[13], src[14], src[15]]);
        Ok(DubboHeader { flags: src[2], status: src[3], id: i64::from_be_bytes(id), body_len })
    }

    /// The header's 16 bytes.
    pub fn to_bytes(self) -> [u8; DUBBO_HEADER_LEN] {
        let mut out = [0; DUBBO_HEADER_LEN];
        out[..2].copy_from_slice(&DUBBO_MAGIC.to_be_bytes());
        out[2] = self.flags;
        out[3] = self.status;
        out[4..12].copy_from_slice(&self.id.to_be_bytes());
        out[12..].copy_from_slice(&self.body_len.to_be_bytes());
        out
    }

    /// A request (else a response).
    pub fn is_request(&self) -> bool {
        self.flags & FLAG_REQUEST != 0
    }

    /// A request that wants a response.
    pub fn is_twoway(&self) -> bool {
        self.is_request() && self.flags & FLAG_TWOWAY != 0
    }

    /// An event (heartbeat, readonly, writeable).
    pub fn is_event(&self) -> bool {
        self.flags & FLAG_EVENT != 0
    }

    /// The serialization id (2 for Hessian2).
    pub fn serialization(&self) -> u8 {
        self.flags & SERIALIZATION_MASK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heartbeat_header_reads_as_dubbo_writes_it() {
        // WIRE: `da bb e2 00 <id 1> 00 00 00 01` then `4e`.
        let bytes = [0xda, 0xbb, 0xe2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1];
        let header = DubboHeader::parse(&bytes).unwrap();
        assert!(header.is_request() && header.is_twoway() && header.is_event());
        assert_eq!((header.serialization(), header.id, header.body_len), (2, 1, 1));
        assert_eq!(header.to_bytes(), bytes);
        assert_eq!(DubboHeader::parse(&[0xd8, 0xb5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), Err(0xd8b5));
    }
}
