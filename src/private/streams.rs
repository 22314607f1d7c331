//! Messages of streaming calls, as generated code sends and receives them.

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;

use crate::{MessageStream, ServiceDescriptor, Status};

/// The one request message of a server-streaming call (or the one reply of a
/// client-streaming call): the stream's first item; none is `InvalidArgument`.
pub async fn first_message(
    mut messages: MessageStream,
    service: &ServiceDescriptor,
    method: &str,
    what: &str,
) -> Result<Bytes, Status> {
    match messages.next().await {
        Some(message) => message,
        None => {
            Err(Status::invalid_argument(format!("{}/{method}: the {what} stream carried no message", service.name)))
        }
    }
}

/// A stream of exactly one message.
pub fn single_message(message: Bytes) -> MessageStream {
    Box::pin(futures_util::stream::once(std::future::ready(Ok(message))))
}

/// Serializes a caller's stream of values as it is polled.
pub fn encode_stream<T, S, F>(values: S, encode: F) -> MessageStream
where
    S: Stream<Item = T> + Send + 'static,
    F: Fn(&T) -> Result<Bytes, Status> + Send + 'static,
{
    Box::pin(values.map(move |value| encode(&value)))
}
