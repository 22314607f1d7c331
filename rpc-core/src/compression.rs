//! Message compressions, as gRPC negotiates them (`grpc-encoding`): the algorithms
//! themselves, with decompression bounded by a limit. How a protocol negotiates and flags
//! them lives with the protocol.

use std::io::Read;

use bytes::{BufMut, Bytes, BytesMut};

use crate::Status;

/// Messages shorter than this go uncompressed unless configured otherwise.
pub const DEFAULT_COMPRESSION_THRESHOLD: usize = 1024;

/// A compression for gRPC messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// gzip (RFC 1952), which every gRPC implementation offers.
    Gzip,
    /// Zstandard: faster than gzip at a similar ratio; tonic and grpc-go offer it.
    Zstd,
}

impl Compression {
    /// Its `grpc-encoding` name.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// Compresses `message`.
    pub(crate) fn compress(self, message: &[u8]) -> Result<Bytes, Status> {
        let failed = |e: std::io::Error| Status::internal(format!("{} compression failed: {e}", self.name()));
        let mut out = BytesMut::with_capacity(message.len() / 2 + 64).writer();
        match self {
            Compression::Gzip => {
                let mut encoder = flate2::write::GzEncoder::new(&mut out, flate2::Compression::fast());
                std::io::Write::write_all(&mut encoder, message).map_err(failed)?;
                encoder.finish().map_err(failed)?;
            }
            Compression::Zstd => zstd::stream::copy_encode(message, &mut out, 1).map_err(failed)?,
        }
        Ok(out.into_inner().freeze())
    }

    /// Decompresses `message`, refusing one that inflates past `limit` bytes.
    pub(crate) fn decompress(self, message: &[u8], limit: usize, what: &str) -> Result<Bytes, Status> {
        let corrupt = |e: std::io::Error| Status::internal(format!("{what}: bad {} message: {e}", self.name()));
        let mut out = Vec::with_capacity(message.len().saturating_mul(2).min(limit));
        // One byte more than the limit tells an over-long message from one exactly at it.
        let bound = (limit as u64).saturating_add(1);
        let read = match self {
            Compression::Gzip => flate2::read::GzDecoder::new(message).take(bound).read_to_end(&mut out),
            Compression::Zstd => {
                let decoder = zstd::stream::read::Decoder::new(message).map_err(corrupt)?;
                decoder.take(bound).read_to_end(&mut out)
            }
        };
        read.map_err(corrupt)?;
        if out.len() > limit {
            return Err(Status::resource_exhausted(format!(
                "{what}: {} message inflates past the limit of {limit} bytes",
                self.name()
            )));
        }
        Ok(out.into())
    }
}

/// The compression a `grpc-encoding` name means, if this build has it.
pub(crate) fn from_name(name: &str) -> Option<Compression> {
    match name.trim() {
        "gzip" => Some(Compression::Gzip),
        "zstd" => Some(Compression::Zstd),
        _ => None,
    }
}
