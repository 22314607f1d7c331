//! The server's connection engine for multiplexed protocols: one task per connection reads
//! every frame the socket has, runs each call (inline when it finishes at once), writes the
//! replies in batches, and goes away gracefully on shutdown. A protocol supplies its framing
//! and what each frame means ([`MuxServer`]).

use std::future::Future;

use rpc_codec::{CodecError, EncodeInto, FrameLength};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::Decoder;

use super::{write_batch, CallSlot, FrameReader, FrameWriter, ReplyQueue, WriteGuard};
use crate::protocol::{IdleTimer, LogLimit};
use crate::provider::{Lifecycle, ServerConfig};

/// Frames a busy connection reads between direct checks for shutdown.
const SHUTDOWN_CHECK_EVERY: u32 = 64;

/// What a multiplexed protocol's provider side tells the engine ([`serve`]).
pub(crate) trait MuxServer {
    /// What is written: replies and events.
    type Frame: Send + 'static;
    /// The protocol's framing: reads inbound items, writes [`Frame`](Self::Frame)s.
    type Codec: Decoder<Error = CodecError> + FrameLength + EncodeInto<Self::Frame> + Clone;

    /// The framing, with this connection's limits.
    fn codec(&self) -> Self::Codec;
    /// Replies queued before handlers wait for the socket (backpressure).
    fn write_queue(&self) -> usize;
    /// The frame that tells the client this provider is going away, if the protocol has one.
    fn go_away(&self) -> Option<Self::Frame>;
    /// What one inbound item asks of the connection. `going_away`: shutdown has begun, so a
    /// new call is to be refused unrun. `replies` is where calls that outlive their first
    /// poll — and the protocol's own tasks, such as streams — send frames later.
    fn on_inbound(
        &mut self,
        inbound: <Self::Codec as Decoder>::Item,
        going_away: bool,
        replies: &mut ReplyQueue<Self::Frame>,
    ) -> Handled<Self::Frame, impl Future<Output = Option<Self::Frame>> + Send + 'static + use<Self>>;
    /// The connection is ending: stop what runs on the peer's behalf.
    fn on_close(&mut self);
}

/// What an inbound item asks of the connection.
// Returned and consumed at once; boxing would only add an allocation per call.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Handled<T, C> {
    /// Send this frame (a heartbeat's answer, a refusal).
    Reply(T),
    /// Run this call; its output is the reply, if any.
    Call(C),
    /// Nothing to send.
    Done,
}

/// Serves one connection until the peer closes it, it idles out, a protocol error makes it
/// unreadable, or the server shuts down.
///
/// One task reads and writes, the way a minimal echo server would: it reads every frame the
/// socket has, answering most calls inline straight into the write buffer, and when nothing
/// more is readable it flushes once. Calls that had to wait run as their own tasks and send
/// their replies through a queue. (A separate writer task cost a task switch per batch, and
/// queueing inline replies cost a semaphore round per call; both showed in the profile.)
pub(crate) async fn serve<P, R, W>(mut protocol: P, read: R, write: W, config: &ServerConfig, lifecycle: &Lifecycle)
where
    P: MuxServer,
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let codec = protocol.codec();
    let mut frames = FrameReader::new(read, codec.clone());
    let guard = WriteGuard { limit: config.write_timeout, force: lifecycle.force.clone() };
    let mut sink = FrameWriter::for_server(write, codec, guard, lifecycle.pipelining.connection());
    let mut queue = ReplyQueue::new(protocol.write_queue());
    let mut going_away = false;
    // Replies written to the sink's buffer since the last flush.
    let mut unflushed = false;
    let mut calls = CallSlot::new();
    // Made once per connection, not per frame: a fresh timer or cancellation future on every
    // read showed up in the server's profile.
    let shutdown = lifecycle.shutdown.cancelled();
    let force = lifecycle.force.cancelled();
    let idle = IdleTimer::new(config.idle_timeout);
    tokio::pin!(shutdown, force, idle);
    // Bytes of a partial frame held when the idle timer last expired.
    let mut buffered_at_idle = 0;
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
                if let Some(frame) = protocol.go_away() {
                    if sink.feed(frame).await.is_err() {
                        return;
                    }
                    unflushed = true;
                }
            }
        }
        let next = tokio::select! {
            biased;
            next = frames.next() => next,
            Some(reply) = queue.recv() => {
                let Some(more) = queue.receiver() else { continue };
                if write_batch(&mut sink, more, reply).await.is_err() {
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
                if let Some(frame) = protocol.go_away() {
                    if sink.feed(frame).await.is_err() {
                        return;
                    }
                    unflushed = true;
                }
                continue;
            }
            () = idle.as_mut().expired() => {
                // Idle means no bytes, not no whole frames: a large frame still arriving
                // slowly keeps its connection.
                let buffered = frames.buffered();
                if buffered != std::mem::replace(&mut buffered_at_idle, buffered) {
                    idle.as_mut().activity();
                    continue;
                }
                tracing::debug!(idle = ?config.idle_timeout, "closing idle connection");
                break;
            }
        };
        idle.as_mut().activity();
        let reply = match next {
            None => break,
            Some(Err(CodecError::Io(e))) => {
                tracing::debug!(error = %e, "connection lost");
                break;
            }
            Some(Err(e)) => {
                // Any peer can send garbage: a flood of it writes a few lines a second.
                static PROTOCOL_ERRORS: LogLimit = LogLimit::new(10);
                if let Some(suppressed) = PROTOCOL_ERRORS.admit() {
                    tracing::warn!(error = %e, suppressed, "closing connection on a protocol error");
                }
                break;
            }
            Some(Ok(inbound)) => match protocol.on_inbound(inbound, going_away, &mut queue) {
                Handled::Reply(reply) => Some(reply),
                Handled::Done => None,
                // A call that completes at once (most do) needs no task of its own.
                Handled::Call(call) => calls.run(call, &mut queue).await,
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
    // What runs for the peer waits on it, and it is gone: stop it. Replies of calls still
    // running hold senders; finish when the last is written.
    protocol.on_close();
    if let Some(mut queue) = queue.close_sending() {
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
    }
    let _ = sink.close().await;
}
