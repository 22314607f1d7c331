use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::Either;
use pin_project_lite::pin_project;
use rpc_codec::{Frame, FrameCodec, SerializationId};

use crate::protocol::Annotator;
use crate::provider::call::call;
use crate::provider::ServiceStack;
use crate::{Code, Request, Response, Status};

/// Runs one request through the server's service stack (the neutral [`call`]); its output
/// is the reply frame (none for a oneway request).
///
/// Refuses to start a call whose deadline has already passed, cancels one that outlives its
/// deadline, and turns a panicking handler into `Internal` — the connection and the server
/// keep serving either way.
///
/// The connection polls this future once in a reused heap slot; if it has to wait, the slot
/// goes with it into a task of its own (see `CallSlot`). Only the call itself lives across an
/// await: the request is built before it.
pub(crate) fn dispatch<S>(
    service: S,
    frame: Frame,
    annotator: &Annotator,
    codec: FrameCodec,
) -> impl Future<Output = Option<Frame>> + Send
where
    S: ServiceStack,
{
    let reply_to = ReplyTo { id: frame.request_id, serialization: frame.serialization, codec };
    let oneway = frame.flags.is_oneway();
    let span = tracing::debug_span!(
        "rpc.server.call",
        service = %frame.metadata.service,
        method = %frame.metadata.method,
        request_id = reply_to.id,
    );
    let call = match request_from_frame(frame) {
        Ok(mut request) => {
            annotator.annotate(&mut request);
            Either::Left(call(service, request))
        }
        Err(status) => Either::Right(std::future::ready(Err(status))),
    };
    Dispatched { call, span, reply_to: (!oneway).then_some(reply_to) }
}

/// Where a call's reply goes: its request's id and serialization, framed by `codec`.
struct ReplyTo {
    id: u64,
    serialization: u8,
    codec: FrameCodec,
}

pin_project! {
    /// A call run in its span, its result turned into the reply frame. One future written
    /// out rather than `instrument(..).map(..)`: each combinator took the call by value, and
    /// every layer copied the several hundred bytes of it once more.
    struct Dispatched<F> {
        #[pin]
        call: F,
        span: tracing::Span,
        // `None` for a oneway call, which has no reply.
        reply_to: Option<ReplyTo>,
    }
}

impl<F: Future<Output = Result<Response, Status>>> Future for Dispatched<F> {
    type Output = Option<Frame>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Frame>> {
        let this = self.project();
        let _entered = this.span.enter();
        let result = ready!(this.call.poll(cx));
        if let Err(status) = &result {
            tracing::debug!(code = %status.code(), message = status.message(), "call failed");
        }
        Poll::Ready(this.reply_to.take().map(|to| reply_frame(to.id, to.serialization, result, &to.codec)))
    }
}

/// The request a frame carries, or why it must not run.
fn request_from_frame(frame: Frame) -> Result<Request, Status> {
    let serialization = SerializationId::try_from(frame.serialization)
        .map_err(|e| Status::invalid_argument(format!("request not run: {e}")))?;
    // The wire's smallest budget, 1 µs, is how a caller sends a deadline that already passed
    // (one that passes before the call starts is refused by `call`).
    if frame.metadata.timeout.is_some_and(|t| t <= Duration::from_micros(1)) {
        return Err(Status::deadline_exceeded("deadline passed before the call started; not run"));
    }
    let deadline = frame.metadata.timeout.map(|remaining| Instant::now() + remaining);
    Ok(Request::from_parts(frame.metadata, serialization, frame.flags.is_oneway(), frame.body, deadline))
}

/// The reply frame for `result`. An error carries its message as the body; a result too large
/// for one frame becomes `ResourceExhausted` instead of an oversized frame.
pub(crate) fn reply_frame(id: u64, serialization: u8, result: Result<Response, Status>, codec: &FrameCodec) -> Frame {
    match result {
        Ok(response) => {
            let mut frame = Frame::response(id, serialization, Code::Ok as u8, response.body);
            frame.metadata.attachments = response.attachments;
            match codec.encoded_len(&frame) {
                Ok(_) => frame,
                Err(e) => {
                    error_frame(id, serialization, &Status::resource_exhausted(format!("reply not sent: {e}")), codec)
                }
            }
        }
        Err(status) => error_frame(id, serialization, &status, codec),
    }
}

fn error_frame(id: u64, serialization: u8, status: &Status, codec: &FrameCodec) -> Frame {
    // A message longer than a frame holds is cut, on a character boundary.
    let limit = codec.max_frame_size().saturating_sub(rpc_codec::HEADER_LEN).min(64 * 1024);
    let mut message = status.message();
    if message.len() > limit {
        let mut end = limit;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message = &message[..end];
    }
    let code = if status.code() == Code::Ok { Code::Unknown } else { status.code() };
    Frame::response(id, serialization, code as u8, Bytes::copy_from_slice(message.as_bytes()))
}
