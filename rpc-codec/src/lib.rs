//! The wire format of `rpc`: a fixed frame header, length-prefixed framing, the metadata
//! section and the serializations that turn arguments into bodies.
//!
//! This crate owns bytes only — no sockets. Every decoder here is total: malformed input
//! yields an error value, never a panic, and no length field can make it allocate more than
//! the configured maximum frame size. The byte layout is specified in `docs/PROTOCOL.md`.
//!
//! ```
//! # mod rpc { pub mod codec { pub use rpc_codec::*; } }
//! use bytes::{Bytes, BytesMut};
//! use rpc::codec::{Flags, Frame, FrameCodec, Inbound, Metadata};
//! use tokio_util::codec::{Decoder, Encoder};
//!
//! let mut codec = FrameCodec::default();
//! let frame = Frame::request(7, Metadata::call("demo.Greeter", "hello"), Bytes::from_static(b"hi"));
//! let mut wire = BytesMut::new();
//! codec.encode(frame.clone(), &mut wire).unwrap();
//! match codec.decode(&mut wire).unwrap() {
//!     Some(Inbound::Frame(decoded)) => assert_eq!(decoded, frame),
//!     other => panic!("unexpected {other:?}"),
//! }
//! ```

#![warn(missing_docs)]

pub mod dubbo;
mod error;
mod frame;
mod frame_length;
mod framing;
mod header;
mod metadata;
mod reserve;
pub mod serialization;
mod write_buf;

pub use error::{CodecError, MetadataError, SerializationError};
pub use frame::{EventKind, Frame};
pub use frame_length::FrameLength;
pub use framing::{FrameCodec, Inbound, RejectReason, DEFAULT_MAX_FRAME_SIZE};
pub use header::{Flags, FrameHeader, HEADER_LEN, MAGIC, VERSION};
pub use metadata::{Attachments, Metadata};
pub use reserve::{reserve_toward, RESERVE_STEP};
pub use serialization::{shared_bytes, Format, Hessian2, Json, MsgPack, Protobuf, Serialization, SerializationId};
pub use write_buf::{EncodeInto, FrameSink, WriteBuf, INLINE_BODY_MAX};
