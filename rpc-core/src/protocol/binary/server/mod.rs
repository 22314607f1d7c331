//! The provider's side of the binary protocol: one task per connection reads frames, runs
//! calls (inline when they finish at once) and writes replies in batches.

mod call_slot;
mod dispatch;
mod streams;

use std::future::Future;

use bytes::Bytes;
use futures_util::StreamExt;
use rpc_codec::{EventKind, Flags, Frame, FrameCodec, Inbound, RejectReason};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_util::codec::FramedRead;
use tower::{BoxError, Service};

use super::{write_batch, FrameWriter, NOT_RUN_ATTACHMENT};
use crate::protocol::{Annotator, ConnectionContext, IdleTimer};
use crate::{Code, Request, Response, Status};
use call_slot::CallSlot;
use dispatch::{dispatch, reply_frame};
use streams::ServerStreams;

/// Frames a busy connection reads between direct checks for shutdown.
const SHUTDOWN_CHECK_EVERY: u32 = 64;

/// Why a request that arrives after go-away is refused, in its `rpc.not-run` attachment.
const NOT_RUN: &str = "provider is shutting down; request not run";

/// Serves one accepted connection until the peer closes it, it idles out, a protocol error
/// makes it unreadable, or the server shuts down.
///
/// One task reads and writes, the way a minimal echo server would: it reads every frame the
/// socket has, answering most calls inline straight into the write buffer, and when nothing
/// more is readable it flushes once. Calls that had to wait run as their own tasks and send
/// their replies through a queue. (A separate writer task cost a task switch per batch, and
/// queueing inline replies cost a semaphore round per call; both showed in the profile.)
pub(crate) async fn serve<S, R, W>(read: R, write: W, context: ConnectionContext<S>)
where
    S: Service<Request, Response = Response> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send,
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let ConnectionContext { service, router, config, lifecycle, info } = context;
    let codec = FrameCodec::new(config.binary.max_frame_size);
    let mut frames = FramedRead::new(read, codec.clone());
    let mut sink = FrameWriter::new(write, codec.clone());
    let (replies, mut queue) = mpsc::channel(config.binary.write_queue.max(1));
    let mut going_away = false;
    // Replies written to the sink's buffer since the last flush.
    let mut unflushed = false;
    let mut calls = CallSlot::new();
    let annotator = Annotator::new(router, info);
    let streams = ServerStreams::new(service.clone(), annotator.clone(), config.binary.max_frame_size);
    // Made once per connection, not per frame: a fresh timer or cancellation future on every
    // read showed up in the server's profile.
    let shutdown = lifecycle.shutdown.cancelled();
    let force = lifecycle.force.cancelled();
    let idle = IdleTimer::new(config.idle_timeout);
    tokio::pin!(shutdown, force, idle);
    // Frames come first so a busy connection does not poll (and lock) the cancellation
    // tokens per frame; it checks them directly every `SHUTDOWN_CHECK_EVERY` frames instead,
    // and the select sees them whenever the socket has nothing to read.
    let mut until_check = SHUTDOWN_CHECK_EVERY;
    loop {
        until_check -= 1;
        if until_check == 0 {
            until_check = SHUTDOWN_CHECK_EVERY;
            if lifecycle.force.is_cancelled() {
                return;
            }
            if !going_away && lifecycle.shutdown.is_cancelled() {
                going_away = true;
                if sink.feed(Frame::event(0, EventKind::GoAway, false)).await.is_err() {
                    return;
                }
                unflushed = true;
            }
        }
        let next = tokio::select! {
            biased;
            next = frames.next() => next,
            Some(reply) = queue.recv() => {
                if write_batch(&mut sink, &mut queue, reply).await.is_err() {
                    return;
                }
                unflushed = false;
                continue;
            }
            // Nothing more to read: send what was answered inline.
            () = std::future::ready(()), if unflushed => {
                if sink.flush().await.is_err() {
                    return;
                }
                unflushed = false;
                continue;
            }
            _ = &mut force => return,
            _ = &mut shutdown, if !going_away => {
                going_away = true;
                if sink.feed(Frame::event(0, EventKind::GoAway, false)).await.is_err() {
                    return;
                }
                unflushed = true;
                continue;
            }
            () = idle.as_mut().expired() => {
                tracing::debug!(idle = ?config.idle_timeout, "closing idle connection");
                break;
            }
        };
        idle.as_mut().activity();
        let reply = match next {
            None => break,
            Some(Err(rpc_codec::CodecError::Io(e))) => {
                tracing::debug!(error = %e, "connection lost");
                break;
            }
            Some(Err(e)) => {
                tracing::warn!(error = %e, "closing connection on a protocol error");
                break;
            }
            Some(Ok(Inbound::Rejected { header, reason })) => {
                if header.flags.is_request() && !header.flags.is_oneway() && !header.flags.is_event() {
                    let status = match reason {
                        RejectReason::TooLarge { .. } => {
                            Status::resource_exhausted(format!("request not run: {reason}"))
                        }
                        RejectReason::BadMetadata(_) => Status::invalid_argument(format!("request not run: {reason}")),
                    };
                    if header.flags.contains(Flags::STREAM) {
                        streams.fail(header.request_id, header.serialization, status)
                    } else {
                        Some(reply_frame(header.request_id, header.serialization, Err(status), &codec))
                    }
                } else {
                    None
                }
            }
            Some(Ok(Inbound::Frame(frame))) if frame.is_stream() || is_stream_event(&frame) => {
                handle_stream_frame(frame, going_away, &streams, &replies)
            }
            Some(Ok(Inbound::Frame(frame))) => match handle_frame(frame, going_away, &service, &annotator, &codec) {
                Handled::Reply(reply) => Some(reply),
                Handled::Done => None,
                // A call that completes at once (most do) needs no task of its own.
                Handled::Call(call) => calls.run(call, &replies).await,
            },
        };
        if let Some(reply) = reply {
            // Buffered; `feed` writes to the socket only once the buffer holds a chunk.
            if sink.feed(reply).await.is_err() {
                return;
            }
            unflushed = true;
        }
    }
    // Streams wait on their caller, who is gone: stop them. Replies of calls still running
    // hold senders; finish when the last is written.
    streams.cancel_all();
    drop(replies);
    loop {
        tokio::select! {
            biased;
            _ = &mut force => return,
            reply = queue.recv() => match reply {
                Some(reply) => {
                    if write_batch(&mut sink, &mut queue, reply).await.is_err() {
                        return;
                    }
                }
                None => break,
            },
        }
    }
    let _ = sink.close().await;
}

fn is_stream_event(frame: &Frame) -> bool {
    matches!(frame.event_kind(), Some(EventKind::Window(_) | EventKind::Cancel))
}

/// A stream frame or stream event: the reply to send at once, if any.
fn handle_stream_frame<S>(
    frame: Frame,
    going_away: bool,
    streams: &ServerStreams<S>,
    replies: &mpsc::Sender<Frame>,
) -> Option<Frame>
where
    S: Service<Request, Response = Response> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send,
{
    if let Some(kind) = frame.event_kind() {
        streams.on_event(frame.request_id, kind);
        return None;
    }
    if !frame.flags.is_request() {
        return None;
    }
    streams.on_frame(frame, going_away, replies)
}

/// What a decoded frame asks of the connection.
// Returned and consumed at once; boxing would only add an allocation per call.
#[allow(clippy::large_enum_variant)]
enum Handled<C> {
    /// Queue this reply (heartbeats, requests refused while going away).
    Reply(Frame),
    /// Run this call; its output is the reply.
    Call(C),
    Done,
}

fn handle_frame<S>(
    frame: Frame,
    going_away: bool,
    service: &S,
    annotator: &Annotator,
    codec: &FrameCodec,
) -> Handled<impl Future<Output = Option<Frame>> + Send + use<S>>
where
    S: Service<Request, Response = Response> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send,
{
    if let Some(kind) = frame.event_kind() {
        if kind == EventKind::Heartbeat && frame.flags.is_request() {
            return Handled::Reply(Frame::event(frame.request_id, EventKind::Heartbeat, false));
        }
        return Handled::Done;
    }
    if !frame.flags.is_request() {
        tracing::debug!(request_id = frame.request_id, "ignoring a response frame sent to a server");
        return Handled::Done;
    }
    if going_away {
        if frame.flags.is_oneway() {
            return Handled::Done;
        }
        // The request goes back as the refusal — its metadata and body, flagged not run with
        // the reason — so a cluster client need not keep a copy of a call it may retry.
        let (id, serialization) = (frame.request_id, frame.serialization);
        let mut reply = Frame::response(id, serialization, Code::Unavailable as u8, frame.body);
        reply.metadata = frame.metadata;
        reply.metadata.timeout = None;
        reply.metadata.attachments.insert(NOT_RUN_ATTACHMENT, NOT_RUN);
        if codec.encoded_len(&reply).is_err() {
            reply = Frame::response(id, serialization, Code::Unavailable as u8, Bytes::new());
            reply.metadata.attachments.insert(NOT_RUN_ATTACHMENT, NOT_RUN);
        }
        return Handled::Reply(reply);
    }
    Handled::Call(dispatch(service.clone(), frame, annotator, codec.clone()))
}
