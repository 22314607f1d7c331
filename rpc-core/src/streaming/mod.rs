//! Streaming calls: a method may take a stream of messages, return one, or both (gRPC's
//! client-, server- and bidirectional streaming). On the wire a stream is a sequence of
//! serialized messages ([`MessageStream`]); handlers and callers see typed [`Streaming`]s.
//!
//! Streams travel over either protocol with flow control — HTTP/2's windows for gRPC, a
//! window of messages per direction on the binary protocol (docs/PROTOCOL.md) — so a slow
//! reader stops the writer instead of growing a queue. Dropping a stream cancels the call
//! at the other end.
//!
//! A streaming call is an ordinary `tower::Service<Request>` call on both sides: the
//! request carries the caller's messages ([`Request::with_messages`](crate::Request::with_messages))
//! and the [`Response`](crate::Response) the provider's, so every layer sees it.

mod typed;

use std::pin::Pin;

use bytes::Bytes;
use futures_core::Stream;

pub use typed::Streaming;

use crate::Status;

/// Serialized messages of one direction of a streaming call. An `Err` ends the stream with
/// that status.
pub type MessageStream = Pin<Box<dyn Stream<Item = Result<Bytes, Status>> + Send + 'static>>;

/// What a streaming method takes and returns, as the transports see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MethodKind {
    /// One request, one reply.
    #[default]
    Unary,
    /// Many requests, one reply.
    ClientStreaming,
    /// One request, many replies.
    ServerStreaming,
    /// Many of both, independently.
    Bidirectional,
}

impl MethodKind {
    /// Whether either side streams.
    pub const fn is_streaming(self) -> bool {
        !matches!(self, MethodKind::Unary)
    }
}
