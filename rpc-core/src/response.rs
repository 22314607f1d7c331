use bytes::Bytes;
use rpc_codec::{Attachments, SerializationId};

/// A successful reply: the serialized result and the attachments the provider sent back.
/// (A failed call is a [`crate::Status`] instead.)
#[derive(Debug, Clone, Default)]
pub struct Response {
    pub serialization: SerializationId,
    pub body: Bytes,
    pub attachments: Attachments,
}

impl Response {
    pub fn new(serialization: SerializationId, body: Bytes) -> Response {
        Response { serialization, body, attachments: Attachments::new() }
    }
}
