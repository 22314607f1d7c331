use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use futures_core::Stream;
use http_body::Body;
use hyper::body::Incoming;

use super::compression::Encoding;
use super::{headers, message};
use crate::Status;

/// The messages of an incoming HTTP/2 body, split as their bytes arrive. Reading is what
/// returns flow-control credit to the peer, so a consumer that stops polling stops the
/// sender. A message over `max_message` fails the stream (`ResourceExhausted`) before it is
/// buffered. On a reply (`expect_status`), the trailers' `grpc-status` ends the stream: an
/// error status is the last item.
pub(crate) struct MessageReader {
    body: Incoming,
    buffer: BytesMut,
    max_message: usize,
    encoding: Encoding,
    expect_status: bool,
    what: &'static str,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    done: bool,
}

impl MessageReader {
    pub(crate) fn new(
        body: Incoming,
        max_message: usize,
        expect_status: bool,
        what: &'static str,
        deadline: Option<Instant>,
        encoding: Encoding,
    ) -> MessageReader {
        MessageReader {
            body,
            buffer: BytesMut::new(),
            max_message,
            encoding,
            expect_status,
            what,
            deadline: deadline.map(|d| Box::pin(tokio::time::sleep_until(d.into()))),
            done: false,
        }
    }

    /// The next whole message in the buffer, if one has fully arrived.
    fn split_message(&mut self) -> Result<Option<Bytes>, Status> {
        split_message(&mut self.buffer, self.max_message, self.what, self.encoding)
    }

    fn fail(&mut self, status: Status) -> Poll<Option<Result<Bytes, Status>>> {
        self.done = true;
        Poll::Ready(Some(Err(status)))
    }
}

impl Stream for MessageReader {
    type Item = Result<Bytes, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        loop {
            match this.split_message() {
                Ok(Some(message)) => return Poll::Ready(Some(Ok(message))),
                Ok(None) => {}
                Err(status) => return this.fail(status),
            }
            if let Some(deadline) = this.deadline.as_mut() {
                if deadline.as_mut().poll(cx).is_ready() {
                    return this.fail(Status::deadline_exceeded(format!("{}: deadline passed mid-stream", this.what)));
                }
            }
            let frame = match Pin::new(&mut this.body).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(frame) => frame,
            };
            match frame {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => this.buffer.extend_from_slice(&data),
                    Err(frame) => {
                        if let Some(Err(status)) = frame.trailers_ref().and_then(headers::status_from) {
                            return this.fail(status);
                        }
                        if frame.trailers_ref().is_some_and(|t| headers::status_from(t).is_some()) {
                            this.expect_status = false;
                        }
                    }
                },
                Some(Err(e)) => {
                    let cause = std::error::Error::source(&e).map(|c| format!(": {c}")).unwrap_or_default();
                    return this.fail(Status::cancelled(format!("{}: stream broken off: {e}{cause}", this.what)));
                }
                None => {
                    this.done = true;
                    if !this.buffer.is_empty() {
                        return Poll::Ready(Some(Err(Status::invalid_argument(format!(
                            "{}: stream ended inside a message",
                            this.what
                        )))));
                    }
                    if this.expect_status {
                        return Poll::Ready(Some(Err(Status::internal(format!(
                            "{}: stream ended without grpc-status",
                            this.what
                        )))));
                    }
                    return Poll::Ready(None);
                }
            }
        }
    }
}

/// The next whole message in `buffer`, if one has fully arrived; room is made for one still
/// arriving in step with its bytes, not for its announced length at once.
fn split_message(
    buffer: &mut BytesMut,
    max_message: usize,
    what: &str,
    encoding: Encoding,
) -> Result<Option<Bytes>, Status> {
    if buffer.len() < message::PREFIX_LEN {
        return Ok(None);
    }
    let len = u32::from_be_bytes([buffer[1], buffer[2], buffer[3], buffer[4]]) as usize;
    let flag = buffer[0];
    if flag > 1 {
        return Err(Status::invalid_argument(format!("{what}: bad compressed flag {flag}")));
    }
    if len > max_message {
        return Err(Status::resource_exhausted(format!(
            "{what}: message of {len} bytes over the limit of {max_message}"
        )));
    }
    if buffer.len() < message::PREFIX_LEN + len {
        rpc_codec::reserve_toward(buffer, message::PREFIX_LEN + len);
        return Ok(None);
    }
    buffer.advance(message::PREFIX_LEN);
    let message = buffer.split_to(len).freeze();
    encoding.decode(flag, message, max_message, what).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_message_announced_reserves_little_until_its_bytes_arrive() {
        let mut buffer = BytesMut::from(&[0, 0, 0x80, 0, 0][..]);
        assert_eq!(split_message(&mut buffer, 16 << 20, "test", Encoding::Identity).unwrap(), None);
        assert!(buffer.capacity() < 1 << 20, "reserved {} bytes for an 8 MiB prefix", buffer.capacity());
        buffer.extend_from_slice(&vec![7; 8 << 20]);
        let message =
            split_message(&mut buffer, 16 << 20, "test", Encoding::Identity).unwrap().expect("the whole message");
        assert_eq!(message.len(), 8 << 20);
        let status =
            split_message(&mut BytesMut::from(&[0, 0, 0x80, 0, 0][..]), 1024, "test", Encoding::Identity).unwrap_err();
        assert_eq!(status.code(), crate::Code::ResourceExhausted);
    }
}
