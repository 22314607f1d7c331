use bytes::Bytes;
use rpc_codec::{Attachments, SerializationId};
use sync_wrapper::SyncWrapper;

use crate::{MessageStream, Status};

/// A successful reply: the serialized result — or, for a streaming method, the stream of
/// reply messages — and the attachments the provider sent back. (A failed call is a
/// [`crate::Status`] instead.)
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// let reply = rpc::Response::new(rpc::SerializationId::Json, bytes::Bytes::from_static(b"1"));
/// assert!(!reply.is_streaming());
/// ```
#[derive(Default)]
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
    /// Boxed: only streaming replies have it, and every reply is moved a few times.
    messages: Option<Box<SyncWrapper<MessageStream>>>,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("serialization", &self.serialization)
            .field("body", &self.body)
            .field("attachments", &self.attachments)
            .field("swallowed", &self.swallowed)
            .field("streaming", &self.messages.is_some())
            .finish()
    }
}

impl Response {
    /// A reply carrying `body`.
    pub fn new(serialization: SerializationId, body: Bytes) -> Response {
        Response { serialization, body, attachments: Attachments::new(), swallowed: None, messages: None }
    }

    /// The reply of a streaming call: the provider's messages.
    pub fn streaming(serialization: SerializationId, messages: MessageStream) -> Response {
        Response { serialization, messages: Some(Box::new(SyncWrapper::new(messages))), ..Response::default() }
    }

    /// A stand-in for a reply that failed with `status`, which the caller chose to ignore.
    pub fn swallowed(status: Status) -> Response {
        Response { swallowed: Some(status), ..Response::default() }
    }

    /// Whether this reply is a stream of messages.
    pub fn is_streaming(&self) -> bool {
        self.messages.is_some()
    }

    /// Takes a streaming reply's messages out (once).
    pub fn take_messages(&mut self) -> Option<MessageStream> {
        self.messages.take().map(|messages| messages.into_inner())
    }

    /// The reply's messages: a streaming reply's stream, or a unary reply's body as a stream
    /// of one (what a layer that answered a streaming call with a unary reply still gives the
    /// caller).
    ///
    /// ```
    /// # mod rpc { pub use rpc_core::*; }
    /// use futures_util::StreamExt;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let reply = rpc::Response::new(rpc::SerializationId::Json, bytes::Bytes::from_static(b"1"));
    /// let messages: Vec<_> = reply.into_messages().collect().await;
    /// assert_eq!(messages.len(), 1);
    /// # });
    /// ```
    pub fn into_messages(mut self) -> MessageStream {
        match self.take_messages() {
            Some(messages) => messages,
            None => Box::pin(futures_util::stream::once(std::future::ready(Ok(self.body)))),
        }
    }
}
