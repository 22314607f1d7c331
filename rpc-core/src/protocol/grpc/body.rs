use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};

use super::compression::Compressor;
use super::{headers, message};
use crate::{MessageStream, Status};

/// What rpc sends over HTTP/2: a unary message with its trailers, or a stream of messages
/// encoded as they are polled (hyper polls only when the peer's flow-control window has
/// room, so a slow reader holds the producer back).
pub(crate) enum GrpcBody {
    /// One message (a DATA chunk, or two: see [`message::Encoded`]), then trailers if any.
    /// (Requests have no trailers; a trailers-only error reply has neither and ends with its
    /// headers.)
    Unary {
        data: Option<Bytes>,
        more: Option<Bytes>,
        trailers: Option<HeaderMap>,
    },
    Stream(MessageBody),
}

impl GrpcBody {
    pub(crate) fn unary(message: message::Encoded, trailers: Option<HeaderMap>) -> GrpcBody {
        GrpcBody::Unary { data: Some(message.first), more: message.rest, trailers }
    }

    pub(crate) fn empty() -> GrpcBody {
        GrpcBody::Unary { data: None, more: None, trailers: None }
    }
}

/// A stream of messages as DATA frames. A reply (`with_status`) ends with `grpc-status`
/// trailers: 0 after the last message, the error's code if the stream fails or the deadline
/// passes. A request ends with end-of-stream; an error there resets the stream.
pub(crate) struct MessageBody {
    messages: Option<MessageStream>,
    with_status: bool,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    /// How the stream ended, held back while the data before it is sent.
    ended: Option<Status>,
    /// DATA frames made since this body last let its task yield.
    since_yield: u32,
    /// Compresses long messages, when the peer accepts it.
    compressor: Option<Compressor>,
}

/// A body whose messages are always ready would keep hyper's task busy for a whole
/// flow-control window (megabytes) at a time; after this many frames it yields once, so the
/// connection and other tasks on the thread get their turn.
const FRAMES_PER_YIELD: u32 = 4;

/// Messages already waiting are sent together in DATA frames of up to this many bytes: a
/// frame per small message costs framing per message, and h2 peers treat floods of small
/// DATA frames as abuse (`ENHANCE_YOUR_CALM`).
const COALESCE_BYTES: usize = 32 * 1024;

impl MessageBody {
    pub(crate) fn new(
        messages: MessageStream,
        with_status: bool,
        deadline: Option<Instant>,
        compressor: Option<Compressor>,
    ) -> MessageBody {
        let deadline = deadline.map(|d| Box::pin(tokio::time::sleep_until(d.into())));
        MessageBody { messages: Some(messages), with_status, deadline, ended: None, since_yield: 0, compressor }
    }

    /// Ends the body with `status` (trailers on a reply; a reset on a request).
    fn end(&mut self, status: Status) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        self.messages = None;
        if self.with_status {
            let mut trailers = HeaderMap::with_capacity(2);
            if status.code() == crate::Code::Ok {
                trailers.insert(headers::GRPC_STATUS, http::HeaderValue::from_static("0"));
            } else {
                headers::put_status(&mut trailers, &status);
            }
            Poll::Ready(Some(Ok(Frame::trailers(trailers))))
        } else if status.code() == crate::Code::Ok {
            Poll::Ready(None)
        } else {
            Poll::Ready(Some(Err(status)))
        }
    }
}

impl Body for GrpcBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        match &mut *self {
            GrpcBody::Unary { data, more, trailers } => {
                if let Some(data) = data.take().or_else(|| more.take()) {
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Poll::Ready(trailers.take().map(|trailers| Ok(Frame::trailers(trailers))))
            }
            GrpcBody::Stream(body) => {
                if let Some(status) = body.ended.take() {
                    return body.end(status);
                }
                let Some(messages) = body.messages.as_mut() else { return Poll::Ready(None) };
                if body.since_yield >= FRAMES_PER_YIELD {
                    body.since_yield = 0;
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                if let Some(deadline) = body.deadline.as_mut() {
                    if deadline.as_mut().poll(cx).is_ready() {
                        return body.end(Status::deadline_exceeded("deadline passed while the stream ran"));
                    }
                }
                let mut data = BytesMut::new();
                while data.len() < COALESCE_BYTES {
                    match messages.as_mut().poll_next(cx) {
                        Poll::Ready(Some(Ok(message))) => {
                            if let Err(status) = message::encode_into(&message, body.compressor, &mut data) {
                                body.ended = Some(status);
                                break;
                            }
                        }
                        Poll::Ready(Some(Err(status))) => {
                            body.ended = Some(status);
                            break;
                        }
                        Poll::Ready(None) => {
                            body.ended = Some(Status::new(crate::Code::Ok, ""));
                            break;
                        }
                        Poll::Pending => break,
                    }
                }
                if !data.is_empty() {
                    body.since_yield += 1;
                    return Poll::Ready(Some(Ok(Frame::data(data.freeze()))));
                }
                match body.ended.take() {
                    Some(status) => body.end(status),
                    None => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            GrpcBody::Unary { data, more, trailers } => data.is_none() && more.is_none() && trailers.is_none(),
            GrpcBody::Stream(body) => body.messages.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            GrpcBody::Unary { data, more, .. } => {
                SizeHint::with_exact([data, more].into_iter().flatten().map(|d| d.len() as u64).sum())
            }
            GrpcBody::Stream(_) => SizeHint::default(),
        }
    }
}
