//! Streaming calls: a method may take a stream of messages, return one, or both (gRPC's
//! client-, server- and bidirectional streaming). On the wire a stream is a sequence of
//! serialized messages ([`MessageStream`]); handlers and callers see typed [`Streaming`]s.
//!
//! Streams travel over either protocol with flow control — HTTP/2's windows for gRPC, a
//! window of messages per direction on the binary protocol (docs/PROTOCOL.md) — so a slow
//! reader stops the writer instead of growing a queue. Dropping a stream cancels the call
//! at the other end.

mod typed;

use std::pin::Pin;

use bytes::Bytes;
use futures_core::Stream;

pub use typed::Streaming;

use crate::{BoxFuture, Request, Status};

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

/// A client transport that can carry streaming calls: what generated clients need for their
/// streaming methods. `request` names the call (its body is unused); `outbound` is what the
/// caller sends; the future resolves, once the provider has answered with its headers, to
/// the stream of replies.
pub trait StreamingService {
    /// Opens a streaming call: `outbound` carries the caller's messages; resolves to the provider's.
    fn call_streaming(&self, request: Request, outbound: MessageStream) -> BoxFuture<Result<MessageStream, Status>>;
}
