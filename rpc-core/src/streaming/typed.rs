use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;

use super::MessageStream;
use crate::Status;

/// A stream of typed messages: what a streaming handler receives or returns, and what a
/// generated client's streaming method returns. An `Err` item ends the stream with that
/// status (a handler returning one ends the call with it).
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// use futures_util::StreamExt;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mut numbers = rpc::Streaming::iter(vec![1u32, 2, 3]);
/// assert_eq!(numbers.next().await.unwrap().unwrap(), 1);
/// let mut made = rpc::Streaming::new(futures_util::stream::iter([Ok::<_, rpc::Status>("a")]));
/// assert_eq!(made.next().await.unwrap().unwrap(), "a");
/// # });
/// ```
pub struct Streaming<T> {
    inner: Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>,
}

impl<T> Streaming<T> {
    /// Wraps any stream of results.
    pub fn new<S>(stream: S) -> Streaming<T>
    where
        S: Stream<Item = Result<T, Status>> + Send + 'static,
    {
        Streaming { inner: Box::pin(stream) }
    }

    /// A stream of `items`, all successful.
    pub fn iter<I>(items: I) -> Streaming<T>
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: Send + 'static,
        T: 'static,
    {
        Streaming::new(futures_util::stream::iter(items.into_iter().map(Ok)))
    }

    /// Typed messages from serialized ones (generated code).
    #[doc(hidden)]
    pub fn decode<F>(messages: MessageStream, decode: F) -> Streaming<T>
    where
        F: Fn(&Bytes) -> Result<T, Status> + Send + 'static,
        T: 'static,
    {
        Streaming::new(messages.map(move |message| message.and_then(|bytes| decode(&bytes))))
    }

    /// Serialized messages from typed ones (generated code). A message that fails to
    /// serialize ends the stream with that error.
    #[doc(hidden)]
    pub fn encode<F>(self, encode: F) -> MessageStream
    where
        F: Fn(&T) -> Result<Bytes, Status> + Send + 'static,
        T: 'static,
    {
        Box::pin(self.inner.map(move |item| item.and_then(|value| encode(&value))))
    }
}

impl<T> Stream for Streaming<T> {
    type Item = Result<T, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl<T> std::fmt::Debug for Streaming<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streaming").finish_non_exhaustive()
    }
}
