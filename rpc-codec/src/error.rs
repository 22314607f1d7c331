use thiserror::Error;

/// A framing error that leaves the byte stream unusable: the connection must close.
///
/// Recoverable problems with a single frame (too large, bad metadata) are not errors of the
/// stream; they surface as [`crate::Inbound::Rejected`] so the peer can be answered.
#[derive(Debug, Error)]
pub enum CodecError {
    /// The first two bytes of a frame were not the protocol magic.
    #[error("bad magic 0x{found:04x} (expected 0x{expected:04x}): not an rpc stream", expected = crate::MAGIC)]
    BadMagic { found: u16 },
    /// The peer speaks a protocol version this build does not.
    #[error("unsupported protocol version {found} (this build speaks {supported})", supported = crate::VERSION)]
    UnsupportedVersion { found: u8 },
    /// An outgoing frame exceeds the maximum frame size; nothing was written.
    #[error("frame of {size} bytes exceeds the maximum frame size of {max} bytes")]
    FrameTooLarge { size: u64, max: usize },
    /// An outgoing frame's metadata does not fit the format (a string over 65535 bytes, too many attachments).
    #[error("cannot encode metadata: {0}")]
    Metadata(#[from] MetadataError),
    /// The underlying reader or writer failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// The metadata section of a frame could not be read or written.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MetadataError {
    #[error("metadata truncated while reading {field}")]
    Truncated { field: &'static str },
    #[error("metadata field {field} is not valid UTF-8")]
    InvalidUtf8 { field: &'static str },
    #[error("{extra} unexpected bytes after the metadata fields")]
    TrailingBytes { extra: usize },
    #[error("metadata field {field} is {len} bytes; at most 65535 fit")]
    TooLong { field: &'static str, len: usize },
    #[error("{count} attachments; at most 65535 fit")]
    TooManyAttachments { count: usize },
}

/// A value could not be turned into a body, or a body back into a value.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SerializationError {
    #[error("{format} cannot encode {type_name}: {reason}")]
    Encode { format: &'static str, type_name: &'static str, reason: String },
    #[error("{format} cannot decode {type_name}: {reason}")]
    Decode { format: &'static str, type_name: &'static str, reason: String },
    /// The type has no implementation for this format (for example protobuf for a type that is
    /// not a `prost::Message`, or msgpack for one that is not serde-serializable).
    #[error(
        "{format} serialization is not available for {type_name} (msgpack and JSON carry serde types, protobuf carries prost messages)"
    )]
    Unsupported { format: &'static str, type_name: &'static str },
    #[error("unknown serialization id {0}")]
    UnknownId(u8),
}
