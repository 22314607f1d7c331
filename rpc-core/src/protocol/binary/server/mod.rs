//! The provider's side of the binary protocol, on the multiplexed connection engine
//! ([`mux::server`](crate::protocol::mux::server)): what each frame means — calls, heartbeats,
//! stream frames and events, frames refused unread — and the go-away event.

mod dispatch;
mod streams;

use std::future::Future;

use bytes::Bytes;
use rpc_codec::{EventKind, Flags, Frame, FrameCodec, Inbound, RejectReason};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;

use super::NOT_RUN_ATTACHMENT;
use crate::protocol::mux::{self, Handled, MuxServer, ReplyQueue};
use crate::protocol::{Annotator, ConnectionContext};
use crate::provider::ServiceStack;
use crate::{Code, Status};
use dispatch::{dispatch, reply_frame};
use streams::ServerStreams;

/// Why a request that arrives after go-away is refused, in its `rpc.not-run` attachment.
const NOT_RUN: &str = "provider is shutting down; request not run";

/// Serves one accepted binary-protocol connection (see [`mux::server::serve`]).
pub(crate) async fn serve<S, R, W>(read: R, write: W, context: ConnectionContext<S>)
where
    S: ServiceStack,
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let ConnectionContext { service, router, config, lifecycle, info } = context;
    let annotator = Annotator::new(router, info);
    let binary = &config.binary;
    let server = BinaryServer {
        streams: ServerStreams::new(
            service.clone(),
            annotator.clone(),
            binary.max_frame_size,
            binary.max_concurrent_streams,
        ),
        codec: FrameCodec::new(binary.max_frame_size),
        write_queue: binary.write_queue,
        service,
        annotator,
    };
    mux::server::serve(server, read, write, &config, &lifecycle).await
}

/// One connection's binary-protocol state: its service stack and its open streams.
struct BinaryServer<S> {
    service: S,
    annotator: Annotator,
    codec: FrameCodec,
    write_queue: usize,
    streams: ServerStreams<S>,
}

impl<S> MuxServer for BinaryServer<S>
where
    S: ServiceStack,
{
    type Frame = Frame;
    type Codec = FrameCodec;

    fn codec(&self) -> FrameCodec {
        self.codec.clone()
    }

    fn write_queue(&self) -> usize {
        self.write_queue
    }

    fn go_away(&self) -> Option<Frame> {
        Some(Frame::event(0, EventKind::GoAway, false))
    }

    fn on_inbound(
        &mut self,
        inbound: Inbound,
        going_away: bool,
        replies: &mut ReplyQueue<Frame>,
    ) -> Handled<Frame, impl Future<Output = Option<Frame>> + Send + 'static + use<S>> {
        let reply = match inbound {
            Inbound::Rejected { header, reason } => {
                if !(header.flags.is_request() && !header.flags.is_oneway() && !header.flags.is_event()) {
                    return Handled::Done;
                }
                let status = match reason {
                    RejectReason::TooLarge { .. } => Status::resource_exhausted(format!("request not run: {reason}")),
                    RejectReason::BadMetadata(_) => Status::invalid_argument(format!("request not run: {reason}")),
                };
                if header.flags.contains(Flags::STREAM) {
                    self.streams.fail(header.request_id, header.serialization, status)
                } else {
                    Some(reply_frame(header.request_id, header.serialization, Err(status), &self.codec))
                }
            }
            Inbound::Frame(frame) if frame.is_stream() || is_stream_event(&frame) => {
                handle_stream_frame(frame, going_away, &self.streams, replies.sender())
            }
            Inbound::Frame(frame) => {
                return handle_frame(frame, going_away, &self.service, &self.annotator, &self.codec);
            }
        };
        reply.map_or(Handled::Done, Handled::Reply)
    }

    fn on_close(&mut self) {
        // Streams wait on their caller, who is gone.
        self.streams.cancel_all();
    }
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
    S: ServiceStack,
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

fn handle_frame<S>(
    frame: Frame,
    going_away: bool,
    service: &S,
    annotator: &Annotator,
    codec: &FrameCodec,
) -> Handled<Frame, impl Future<Output = Option<Frame>> + Send + use<S>>
where
    S: ServiceStack,
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
