use std::future::Future;
use std::pin::Pin;

use crate::request::Returned;
use crate::{BoxFuture, MessageStream, Protocol, Request, Response, Status};

/// What every protocol's client connection offers [`Connection`](crate::transport::Connection): the
/// seam a new protocol's client implements. `Connection` keeps an enum of them (a match is
/// cheaper per call than a `dyn` call, and lets the binary protocol's reply stay an unboxed
/// named future), and each of its methods is one line per protocol.
pub(crate) trait ProtocolConnection: Clone + Send + Sync + 'static {
    /// The protocol spoken.
    const PROTOCOL: Protocol;
    /// Whether a not-sent error hands back the request's metadata and body
    /// ([`take_unsent`](Self::take_unsent)); when it does not, a cluster call keeps a whole
    /// copy of a request it may retry.
    const HANDS_BACK_UNSENT: bool;

    /// The reply to one unary call.
    type ResponseFuture: Future<Output = Result<Response, Status>> + Send;

    /// The provider's address.
    fn peer(&self) -> &str;
    /// Closed for good (peer gone, protocol error, dead peer).
    fn is_closed(&self) -> bool;
    /// Whether a new call would be sent (neither closed nor told to go away).
    fn is_ready(&self) -> bool;
    /// Calls in flight (sent or queued, not yet answered).
    fn in_flight(&self) -> usize;
    /// Resolves once the connection is closed for good.
    fn closed(&self) -> impl Future<Output = ()> + Send;
    /// Sends a unary (or oneway) call. Errors raised before the request left are marked
    /// [`Status::not_sent`].
    fn call(&self, request: Request) -> Self::ResponseFuture;
    /// Opens a streaming call: `outbound` is what the caller sends; resolves, once the
    /// provider has answered, to the provider's messages.
    fn call_streaming(&self, request: Request, outbound: MessageStream) -> BoxFuture<Result<MessageStream, Status>>;
    /// After a not-sent error: the request's metadata and body, if this protocol hands them back.
    fn take_unsent(_reply: Pin<&mut Self::ResponseFuture>) -> Option<Returned> {
        None
    }
}
