use bytes::Bytes;

use crate::{Flags, Metadata};

/// One unit on the wire: a request, a response or an event, with its metadata and body.
///
/// The body is opaque here: arguments or a result serialized with the format named by
/// `serialization`, or, in an error response, the status message as UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub flags: Flags,
    pub serialization: u8,
    pub status: u8,
    pub request_id: u64,
    pub metadata: Metadata,
    pub body: Bytes,
}

/// What an event frame (the `EVENT` flag) announces; the kind is the body's first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Liveness probe (empty body or `0x00`); a request is answered with a heartbeat response.
    Heartbeat,
    /// The sender will accept no new requests on this connection (`0x01`): it is shutting down.
    GoAway,
    /// A kind this build does not know; ignored, for forward compatibility.
    Unknown(u8),
}

impl EventKind {
    fn code(self) -> u8 {
        match self {
            EventKind::Heartbeat => 0,
            EventKind::GoAway => 1,
            EventKind::Unknown(code) => code,
        }
    }
}

impl Frame {
    /// A request frame with the default serialization id (msgpack).
    pub fn request(request_id: u64, metadata: Metadata, body: Bytes) -> Frame {
        Frame {
            flags: Flags::REQUEST,
            serialization: crate::SerializationId::default() as u8,
            status: 0,
            request_id,
            metadata,
            body,
        }
    }

    /// A response frame answering `request_id` with `status` (0 = ok).
    pub fn response(request_id: u64, serialization: u8, status: u8, body: Bytes) -> Frame {
        Frame { flags: Flags::RESPONSE, serialization, status, request_id, metadata: Metadata::default(), body }
    }

    /// An event frame; `request` selects whether the peer should answer (heartbeats only).
    pub fn event(request_id: u64, kind: EventKind, request: bool) -> Frame {
        let flags = if request { Flags::EVENT | Flags::REQUEST } else { Flags::EVENT };
        let body = match kind {
            EventKind::Heartbeat => Bytes::new(),
            other => Bytes::copy_from_slice(&[other.code()]),
        };
        Frame { flags, serialization: 0, status: 0, request_id, metadata: Metadata::default(), body }
    }

    /// The event this frame announces, if it is an event frame.
    pub fn event_kind(&self) -> Option<EventKind> {
        if !self.flags.is_event() {
            return None;
        }
        Some(match self.body.first() {
            None | Some(0) => EventKind::Heartbeat,
            Some(1) => EventKind::GoAway,
            Some(&other) => EventKind::Unknown(other),
        })
    }
}
