use std::time::Duration;

use rpc_codec::{CodecError, EncodeInto};
use tokio::io::AsyncWrite;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{FrameWriter, Pending};
use crate::protocol::IdleTimer;
use crate::provider::Pipelining;

/// Frames encoded per flush at most, so one busy connection cannot starve the flush forever.
const MAX_BATCH: usize = 256;

/// Owns a write half: encodes queued frames, many per flush (feed all that is queued, then
/// flush once), until every sender is gone or `stop` fires. On `stop` it still writes what was
/// already queued, then shuts the write half down. With `heartbeat`, an interval without
/// outbound frames sends the protocol's heartbeat request, `heartbeat.1()` (after one to two
/// intervals of quiet). It writes a batch's first chunk early only while no other client
/// connection of the process pipelines ([`Pipelining::of_clients`]).
pub(crate) async fn write_loop<W, C, T>(
    io: W,
    codec: C,
    mut queue: mpsc::Receiver<T>,
    heartbeat: Option<(Duration, fn() -> T)>,
    stop: CancellationToken,
) -> Result<(), CodecError>
where
    W: AsyncWrite + Unpin,
    C: EncodeInto<T>,
{
    let mut sink = FrameWriter::for_client(io, codec, Pipelining::of_clients().connection());
    let stopped = stop.cancelled();
    // Without heartbeats the timer exists but is never polled.
    let quiet = IdleTimer::new(heartbeat.map_or(Duration::MAX / 4, |(interval, _)| interval));
    tokio::pin!(stopped, quiet);
    loop {
        let first = tokio::select! {
            biased;
            _ = &mut stopped => break,
            next = queue.recv() => match next {
                Some(frame) => frame,
                None => break,
            },
            () = quiet.as_mut().expired(), if heartbeat.is_some() => match heartbeat {
                Some((_, heartbeat)) => heartbeat(),
                None => continue,
            },
        };
        quiet.as_mut().activity();
        write_batch(&mut sink, &mut queue, first).await?;
    }
    queue.close();
    while let Ok(frame) = queue.try_recv() {
        sink.feed(frame).await?;
    }
    sink.close().await
}

/// Spawns a client connection's [`write_loop`] (in `span`): a write that fails closes the
/// connection for every caller waiting on `pending`.
pub(crate) fn spawn_write_loop<W, C, T, R>(
    io: W,
    codec: C,
    queue: mpsc::Receiver<T>,
    heartbeat: Option<(Duration, fn() -> T)>,
    pending: std::sync::Arc<Pending<R>>,
    span: tracing::Span,
) where
    W: AsyncWrite + Unpin + Send + 'static,
    C: EncodeInto<T> + Send + 'static,
    T: Send + 'static,
    R: Send + 'static,
{
    use tracing::Instrument;
    let writer = write_loop(io, codec, queue, heartbeat, pending.stop_writer.clone());
    tokio::spawn(
        async move {
            if let Err(e) = writer.await {
                pending.close(format!("write failed: {e}"));
            }
        }
        .instrument(span),
    );
}

/// Writes `first` and whatever else is queued (up to a batch), then flushes once: one write
/// syscall for many frames. The client's write loop and the server's connection both use it.
pub(crate) async fn write_batch<W, C, T>(
    sink: &mut FrameWriter<W, C>,
    queue: &mut mpsc::Receiver<T>,
    first: T,
) -> Result<(), CodecError>
where
    W: AsyncWrite + Unpin,
    C: EncodeInto<T>,
{
    sink.feed(first).await?;
    for _ in 1..MAX_BATCH {
        match queue.try_recv() {
            Ok(frame) => sink.feed(frame).await?,
            Err(_) => break,
        }
    }
    sink.flush().await
}
