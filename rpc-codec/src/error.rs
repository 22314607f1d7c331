use thiserror::Error;

/// A framing error that leaves the byte stream unusable: the connection must close.
///
/// Recoverable problems with a single frame (too large, bad metadata) are not errors of the
/// stream; they surface as [`crate::Inbound::Rejected`] so the peer can be answered.
#[derive(Debug, Error)]
pub enum CodecError {
    /// The first two bytes of a frame were not the protocol magic.
    #[error("bad magic 0x{found:04x} (expected 0x{expected:04x}): not an rpc stream", expected = crate::MAGIC)]
    BadMagic {
        /// What the stream had instead.
        found: u16,
    },
    /// The first two bytes of a dubbo2 frame were not `0xdabb`.
    #[error("bad magic 0x{found:04x} (expected 0xdabb): not a dubbo stream")]
    DubboBadMagic {
        /// What the stream had instead.
        found: u16,
    },
    /// The peer speaks a protocol version this build does not.
    #[error("unsupported protocol version {found} (this build speaks {supported})", supported = crate::VERSION)]
    UnsupportedVersion {
        /// The version the peer sent.
        found: u8,
    },
    /// An outgoing frame exceeds the maximum frame size; nothing was written.
    #[error("frame of {size} bytes exceeds the maximum frame size of {max} bytes")]
    FrameTooLarge {
        /// Bytes the frame would take, header included.
        size: u64,
        /// The limit.
        max: usize,
    },
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
    /// The section ended inside a field.
    #[error("metadata truncated while reading {field}")]
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// A string field is not UTF-8.
    #[error("metadata field {field} is not valid UTF-8")]
    InvalidUtf8 {
        /// The field.
        field: &'static str,
    },
    /// Bytes are left over after the last field.
    #[error("{extra} unexpected bytes after the metadata fields")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
    /// A string too long for its 16-bit length.
    #[error("metadata field {field} is {len} bytes; at most 65535 fit")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// More attachments than a 16-bit count holds.
    #[error("{count} attachments; at most 65535 fit")]
    TooManyAttachments {
        /// How many there are.
        count: usize,
    },
}

/// A value could not be turned into a body, or a body back into a value.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SerializationError {
    /// The value could not be written in the format.
    #[error("{format} cannot encode {type_name}: {reason}")]
    Encode {
        /// The format's name.
        format: &'static str,
        /// The value's type.
        type_name: &'static str,
        /// What the encoder said.
        reason: String,
    },
    /// The body is not a value of the type in the format.
    #[error("{format} cannot decode {type_name}: {reason}")]
    Decode {
        /// The format's name.
        format: &'static str,
        /// The type expected.
        type_name: &'static str,
        /// What the decoder said.
        reason: String,
    },
    /// The type has no implementation for this format (for example protobuf for a type that is
    /// not a `prost::Message`, or msgpack for one that is not serde-serializable).
    #[error(
        "{format} serialization is not available for {type_name} (msgpack and JSON carry serde types, protobuf carries prost messages)"
    )]
    Unsupported {
        /// The format's name.
        format: &'static str,
        /// The type.
        type_name: &'static str,
    },
    /// A serialization id no format of this build has.
    #[error("unknown serialization id {0}")]
    UnknownId(u8),
}
