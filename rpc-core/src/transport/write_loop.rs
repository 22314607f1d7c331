use std::time::Duration;

use futures_util::SinkExt;
use rpc_codec::{CodecError, EventKind, Frame, FrameCodec};
use tokio::io::AsyncWrite;
use tokio::sync::mpsc;
use tokio_util::codec::FramedWrite;
use tokio_util::sync::CancellationToken;

/// Frames encoded per flush at most, so one busy connection cannot starve the flush forever.
const MAX_BATCH: usize = 256;

/// Owns a write half: encodes queued frames, many per flush (feed all that is queued, then
/// flush once), until every sender is gone or `stop` fires. On `stop` it still writes what was
/// already queued, then shuts the write half down. With `heartbeat`, an idle interval sends
/// a heartbeat request.
pub(crate) async fn write_loop<W: AsyncWrite + Unpin>(
    io: W,
    codec: FrameCodec,
    mut queue: mpsc::Receiver<Frame>,
    heartbeat: Option<Duration>,
    stop: CancellationToken,
) -> Result<(), CodecError> {
    let mut sink = FramedWrite::new(io, codec);
    loop {
        let first = tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            next = next_or_heartbeat(&mut queue, heartbeat) => match next {
                Some(frame) => frame,
                None => break,
            },
        };
        sink.feed(first).await?;
        for _ in 1..MAX_BATCH {
            match queue.try_recv() {
                Ok(frame) => sink.feed(frame).await?,
                Err(_) => break,
            }
        }
        sink.flush().await?;
    }
    queue.close();
    while let Ok(frame) = queue.try_recv() {
        sink.feed(frame).await?;
    }
    sink.close().await
}

async fn next_or_heartbeat(queue: &mut mpsc::Receiver<Frame>, heartbeat: Option<Duration>) -> Option<Frame> {
    match heartbeat {
        None => queue.recv().await,
        Some(interval) => match tokio::time::timeout(interval, queue.recv()).await {
            Ok(next) => next,
            Err(_) => Some(Frame::event(0, EventKind::Heartbeat, true)),
        },
    }
}
