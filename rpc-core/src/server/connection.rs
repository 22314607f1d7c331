use std::future::Future;
use std::sync::Arc;
use std::task::Poll;

use futures_util::StreamExt;
use rpc_codec::{EventKind, Frame, FrameCodec, Inbound, RejectReason};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;
use tower::{BoxError, Service};
use tracing::Instrument;

use super::dispatch::{dispatch, reply_frame};
use super::ServerConfig;
use crate::transport::{write_loop, IdleTimer};
use crate::{Request, Response, Status};

/// Frames a busy connection reads between direct checks for shutdown.
const SHUTDOWN_CHECK_EVERY: u32 = 64;

/// Signals a connection task watches.
#[derive(Clone)]
pub(crate) struct Lifecycle {
    /// Graceful: announce go-away, answer late requests with `Unavailable`, finish in-flight calls.
    pub(crate) shutdown: CancellationToken,
    /// The grace period ran out: drop the connection now.
    pub(crate) force: CancellationToken,
}

/// Serves one accepted connection until the peer closes it, it idles out, a protocol error
/// makes it unreadable, or the server shuts down.
pub(crate) async fn serve_connection<S>(stream: TcpStream, service: S, config: Arc<ServerConfig>, lifecycle: Lifecycle)
where
    S: Service<Request, Response = Response> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send,
{
    let codec = FrameCodec::new(config.max_frame_size);
    let (read, write) = stream.into_split();
    let (replies, outbound) = mpsc::channel(config.write_queue.max(1));
    let writer =
        tokio::spawn(write_loop(write, codec.clone(), outbound, None, CancellationToken::new()).in_current_span());
    let mut frames = FramedRead::new(read, codec.clone());
    let mut going_away = false;
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
                writer.abort();
                return;
            }
            if !going_away && lifecycle.shutdown.is_cancelled() {
                going_away = true;
                let _ = replies.send(Frame::event(0, EventKind::GoAway, false)).await;
            }
        }
        let next = tokio::select! {
            biased;
            next = frames.next() => next,
            _ = &mut force => {
                writer.abort();
                return;
            }
            _ = &mut shutdown, if !going_away => {
                going_away = true;
                let _ = replies.send(Frame::event(0, EventKind::GoAway, false)).await;
                continue;
            }
            () = idle.as_mut().expired() => {
                tracing::debug!(idle = ?config.idle_timeout, "closing idle connection");
                break;
            }
        };
        idle.as_mut().activity();
        let frame = match next {
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
                    let reply = reply_frame(header.request_id, header.serialization, Err(status), &codec);
                    let _ = replies.send(reply).await;
                }
                continue;
            }
            Some(Ok(Inbound::Frame(frame))) => frame,
        };
        if let Some(kind) = frame.event_kind() {
            if kind == EventKind::Heartbeat && frame.flags.is_request() {
                let _ = replies.send(Frame::event(frame.request_id, EventKind::Heartbeat, false)).await;
            }
            continue;
        }
        if !frame.flags.is_request() {
            tracing::debug!(request_id = frame.request_id, "ignoring a response frame sent to a server");
            continue;
        }
        if going_away {
            if !frame.flags.is_oneway() {
                let status = Status::unavailable("provider is shutting down; request not run");
                let _ = replies.send(reply_frame(frame.request_id, frame.serialization, Err(status), &codec)).await;
            }
            continue;
        }
        // Poll once here: a call that completes at once (most do) needs no task of its own.
        // One that waits becomes its own task, so it never holds up the connection.
        let mut call = Box::pin(dispatch(service.clone(), frame, replies.clone(), codec.clone()));
        if std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx).is_pending())).await {
            tokio::spawn(call);
        }
    }
    // Replies of calls still running hold senders; the writer ends after the last is written.
    drop(replies);
    let mut writer = writer;
    tokio::select! {
        _ = lifecycle.force.cancelled() => writer.abort(),
        _ = &mut writer => {}
    }
}
