use bytes::Bytes;

use crate::{Flags, Metadata};

/// One unit on the wire: a request, a response or an event, with its metadata and body.
///
/// The body is opaque here: arguments or a result serialized with the format named by
/// `serialization`, or, in an error response, the status message as UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Request, response, oneway, event and stream flags.
    pub flags: Flags,
    /// The serialization id of the body (see `SerializationId`).
    pub serialization: u8,
    /// A response's status code (gRPC numbering); 0 on requests.
    pub status: u8,
    /// Pairs a response with its request; streams and oneway calls have ids of their own.
    pub request_id: u64,
    /// Service, method, version, group, remaining deadline and attachments.
    pub metadata: Metadata,
    /// The serialized arguments, result or error message.
    pub body: Bytes,
}

/// What an event frame (the `EVENT` flag) announces; the kind is the body's first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Liveness probe (empty body or `0x00`); a request is answered with a heartbeat response.
    Heartbeat,
    /// The sender will accept no new requests on this connection (`0x01`): it is shutting down.
    GoAway,
    /// The sender gives up the stream with this frame's id (`0x02`): stop sending on it.
    Cancel,
    /// The sender consumed this many more messages of the stream with this frame's id
    /// (`0x03`, then a big-endian u32): the peer may send that many more.
    Window(u32),
    /// A kind this build does not know; ignored, for forward compatibility.
    Unknown(u8),
}

impl EventKind {
    fn code(self) -> u8 {
        match self {
            EventKind::Heartbeat => 0,
            EventKind::GoAway => 1,
            EventKind::Cancel => 2,
            EventKind::Window(_) => 3,
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
            EventKind::Window(credit) => {
                let [a, b, c, d] = credit.to_be_bytes();
                Bytes::copy_from_slice(&[kind.code(), a, b, c, d])
            }
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
            Some(2) => EventKind::Cancel,
            Some(3) => match self.body.get(1..5) {
                Some(&[a, b, c, d]) => EventKind::Window(u32::from_be_bytes([a, b, c, d])),
                _ => EventKind::Unknown(3),
            },
            Some(&other) => EventKind::Unknown(other),
        })
    }

    /// One message of the stream `request_id`: from the caller (`request`) or the provider.
    pub fn stream_message(request_id: u64, request: bool, serialization: u8, body: Bytes) -> Frame {
        let flags = if request { Flags::REQUEST | Flags::STREAM } else { Flags::STREAM };
        Frame { flags, serialization, status: 0, request_id, metadata: Metadata::default(), body }
    }

    /// The end of one side of the stream `request_id`. From the provider it carries the
    /// call's status (0 = ok; otherwise the body is the message).
    pub fn stream_end(request_id: u64, request: bool, serialization: u8, status: u8, body: Bytes) -> Frame {
        let base = if request { Flags::REQUEST | Flags::STREAM } else { Flags::STREAM };
        Frame {
            flags: base | Flags::END_STREAM,
            serialization,
            status,
            request_id,
            metadata: Metadata::default(),
            body,
        }
    }

    /// Part of a streaming call (the STREAM flag).
    pub fn is_stream(&self) -> bool {
        self.flags.contains(Flags::STREAM)
    }

    /// The last frame of one side of a stream (the END_STREAM flag).
    pub fn is_stream_end(&self) -> bool {
        self.flags.contains(Flags::END_STREAM)
    }
}
