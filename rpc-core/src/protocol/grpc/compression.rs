//! gRPC message compression (`grpc-encoding`, `grpc-accept-encoding`): gzip and zstd, as
//! tonic and grpcio offer them. A message is compressed when its sender chose an encoding
//! the peer accepts and it is at least a threshold long (a short message grows under
//! compression and costs more to squeeze than to send); it says so in its prefix's flag.
//! Whatever arrives compressed in an encoding this build knows is decompressed, bounded by
//! the message limit: a small message that inflates past it (a "zip bomb") is refused with
//! `RESOURCE_EXHAUSTED` once the limit is reached, without inflating the rest.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};

use crate::compression::Compression;
use crate::Status;

pub(crate) const GRPC_ENCODING: &str = "grpc-encoding";
pub(crate) const GRPC_ACCEPT_ENCODING: &str = "grpc-accept-encoding";

/// What `grpc-accept-encoding` says this build decompresses.
pub(crate) const ACCEPTED: HeaderValue = HeaderValue::from_static("gzip,zstd");

/// `compression`'s `grpc-encoding` value.
pub(crate) fn header(compression: Compression) -> HeaderValue {
    HeaderValue::from_static(compression.name())
}

/// How the messages of one direction of a call are encoded: the sender's `grpc-encoding`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// No `grpc-encoding` (or `identity`): a message flagged compressed is an error.
    #[default]
    Identity,
    Compressed(Compression),
}

impl Encoding {
    /// The encoding `headers` announce; one this build does not know is `UNIMPLEMENTED`,
    /// as gRPC asks (the reply then says what is accepted).
    pub(crate) fn of(headers: &HeaderMap) -> Result<Encoding, Status> {
        let Some(value) = headers.get(GRPC_ENCODING) else { return Ok(Encoding::Identity) };
        let name = value.to_str().unwrap_or("").trim();
        if name.is_empty() || name == "identity" {
            return Ok(Encoding::Identity);
        }
        crate::compression::from_name(name)
            .map(Encoding::Compressed)
            .ok_or_else(|| Status::unimplemented(format!("grpc-encoding {name:?} is not supported (gzip, zstd)")))
    }

    /// The message of a prefix whose flag is `flag`, decompressed if it says so.
    pub(crate) fn decode(self, flag: u8, message: Bytes, limit: usize, what: &str) -> Result<Bytes, Status> {
        match (flag, self) {
            (0, _) => Ok(message),
            (1, Encoding::Compressed(compression)) => compression.decompress(&message, limit, what),
            (1, Encoding::Identity) => {
                Err(Status::internal(format!("{what}: a message flagged compressed without a grpc-encoding")))
            }
            (flag, _) => Err(Status::invalid_argument(format!("{what}: bad compressed flag {flag}"))),
        }
    }
}

/// Whether the peer whose `grpc-accept-encoding` is in `headers` takes `compression`.
pub(crate) fn accepts(headers: &HeaderMap, compression: Compression) -> bool {
    let listed = headers.get_all(GRPC_ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok());
    listed.flat_map(|v| v.split(',')).any(|name| crate::compression::from_name(name) == Some(compression))
}

/// How a sender compresses: with what, from which length on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Compressor {
    pub(crate) compression: Compression,
    pub(crate) threshold: usize,
}

impl Compressor {
    /// `message` compressed, if it is long enough to be worth it.
    pub(crate) fn compress(self, message: &[u8]) -> Result<Option<Bytes>, Status> {
        if message.len() < self.threshold {
            return Ok(None);
        }
        self.compression.compress(message).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code;

    #[test]
    fn messages_round_trip_in_both_encodings() {
        let message: Vec<u8> = b"the quick brown fox ".iter().copied().cycle().take(64 * 1024).collect();
        for compression in [Compression::Gzip, Compression::Zstd] {
            let squeezed = compression.compress(&message).unwrap();
            assert!(squeezed.len() < message.len() / 10, "{compression:?}: {} bytes", squeezed.len());
            let back = Encoding::Compressed(compression).decode(1, squeezed, message.len(), "test").unwrap();
            assert_eq!(back, message);
        }
    }

    #[test]
    fn a_message_that_inflates_past_the_limit_is_refused() {
        let bomb = vec![0u8; 16 << 20];
        for compression in [Compression::Gzip, Compression::Zstd] {
            let squeezed = compression.compress(&bomb).unwrap();
            assert!(squeezed.len() < 256 * 1024, "{compression:?}: {} bytes", squeezed.len());
            let status = compression.decompress(&squeezed, 1 << 20, "test").unwrap_err();
            assert_eq!(status.code(), Code::ResourceExhausted, "{compression:?}");
            assert_eq!(compression.decompress(&squeezed, 16 << 20, "test").unwrap().len(), 16 << 20);
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        for compression in [Compression::Gzip, Compression::Zstd] {
            let status = compression.decompress(b"not compressed at all", 1024, "test").unwrap_err();
            assert_eq!(status.code(), Code::Internal, "{compression:?}");
        }
        let flagged = Encoding::Identity.decode(1, Bytes::from_static(b"x"), 10, "test").unwrap_err();
        assert_eq!(flagged.code(), Code::Internal);
        let mut headers = HeaderMap::new();
        headers.insert(GRPC_ENCODING, HeaderValue::from_static("snappy"));
        assert_eq!(Encoding::of(&headers).unwrap_err().code(), Code::Unimplemented);
        headers.insert(GRPC_ENCODING, HeaderValue::from_static("gzip"));
        assert_eq!(Encoding::of(&headers).unwrap(), Encoding::Compressed(Compression::Gzip));
    }

    #[test]
    fn a_peer_gets_the_preferred_compression_only_if_it_accepts_it() {
        let mut headers = HeaderMap::new();
        assert!(!accepts(&headers, Compression::Gzip));
        headers.insert(GRPC_ACCEPT_ENCODING, HeaderValue::from_static("identity, deflate, gzip"));
        assert!(accepts(&headers, Compression::Gzip));
        assert!(!accepts(&headers, Compression::Zstd));
    }
}
