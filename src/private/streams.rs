//! Messages of streaming calls, as generated code sends and receives them.

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use rpc_core::__private::{Service, ServiceExt};

use crate::{MessageStream, Request, Response, ServiceDescriptor, Status};

/// Sends a streaming request (one carrying its messages) through `service` and returns the
/// reply's messages. A reply without a stream (a layer answered it with a unary response)
/// is a stream of its one body.
pub async fn call_streaming<S>(service: S, request: Request) -> Result<MessageStream, Status>
where
    S: Service<Request, Response = Response, Error = Status>,
{
    Ok(service.oneshot(request).await?.into_messages())
}

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
