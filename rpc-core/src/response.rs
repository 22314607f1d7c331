use bytes::Bytes;
use rpc_codec::{Attachments, SerializationId};

use crate::Status;

/// A successful reply: the serialized result and the attachments the provider sent back.
/// (A failed call is a [`crate::Status`] instead.)
#[derive(Debug, Clone, Default)]
pub struct Response {
    /// How the body is serialized.
    pub serialization: SerializationId,
    /// The serialized result.
    pub body: Bytes,
    /// Attachments the provider sent back.
    pub attachments: Attachments,
    /// Set when a failsafe or failback cluster swallowed this error in place of a reply:
    /// generated clients then return the result type's default value.
    pub swallowed: Option<Status>,
}

impl Response {
    /// A reply carrying `body`.
    pub fn new(serialization: SerializationId, body: Bytes) -> Response {
        Response { serialization, body, attachments: Attachments::new(), swallowed: None }
    }

    /// A stand-in for a reply that failed with `status`, which the caller chose to ignore.
    pub fn swallowed(status: Status) -> Response {
        Response { swallowed: Some(status), ..Response::default() }
    }
}
