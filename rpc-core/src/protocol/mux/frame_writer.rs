use std::io::{self, IoSlice};

use rpc_codec::{CodecError, EncodeInto, WriteBuf};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::write_guard::WriteGuard;
use crate::provider::PipeliningEntry;

/// Encoded bytes after which a batch's first frames are written out while the rest are still
/// being encoded: the peer starts on them at once. Waiting for a whole batch of 16 calls
/// made both ends take turns instead of overlapping (half the QPS at 16 in flight). A
/// connection writes early only while no other connection of its server, or of its
/// process's clients, pipelines ([`PipeliningEntry`]).
const FIRST_CHUNK: usize = 8 * 1024;

/// Encoded bytes per later write within the same batch: fewer, larger write syscalls once
/// the peer is busy (about 12 % more QPS at 64 in flight than 8 KiB writes).
const LATER_CHUNK: usize = 32 * 1024;

/// Encoded bytes per later write while long bodies are waiting. A 64 KiB frame is a few bytes
/// more than loopback's largest segment, so written one per write it went out as a full
/// segment and a sliver: twice the packets of the raw echo per call, and 0.6× its QPS at 16
/// in flight. Several long frames per write fill their segments.
const LATER_CHUNK_OF_LONG_BODIES: usize = 256 * 1024;

/// Parts handed to one vectored write at most; the rest go in the next.
const MAX_SLICES: usize = 64;

/// Encodes frames (`T`, with the protocol's codec `C`) into a [`WriteBuf`] and writes them
/// out in batches with vectored writes: one end of a connection's write half, used by the
/// client's write loop and the server's connection loop of every multiplexed protocol.
///
/// It writes only when [`feed`](FrameWriter::feed) has gathered a chunk or on
/// [`flush`](FrameWriter::flush). Headers and short bodies are copied into the buffer, which
/// starts over at its allocation's beginning whenever it has been written out (a buffer that
/// only moved forward reached its end holding unsent frames and moved them: a second copy of
/// most frames, which showed in both ends' profiles). Long bodies are not copied at all: the
/// write takes them from where the serializer left them.
pub(crate) struct FrameWriter<W, C> {
    io: W,
    codec: C,
    out: WriteBuf,
    /// Part of the current batch has been written already.
    started: bool,
    /// Bounds each write (servers); `None` waits as long as the peer takes.
    guard: Option<WriteGuard>,
    /// The connection's entry in its server's (or, for a client, its process's) count of
    /// pipelining connections: it writes early only while no other connection pipelines.
    /// Without one (tests) it always does.
    pipelining: Option<PipeliningEntry>,
}

impl<W: AsyncWrite + Unpin, C> FrameWriter<W, C> {
    pub(crate) fn new(io: W, codec: C) -> Self {
        FrameWriter { io, codec, out: WriteBuf::new(), started: false, guard: None, pipelining: None }
    }

    /// A client connection's writer: it writes early only while `pipelining`, an entry in
    /// [`Pipelining::of_clients`](crate::provider::Pipelining::of_clients), says no other
    /// client connection of the process pipelines.
    pub(crate) fn for_client(io: W, codec: C, pipelining: PipeliningEntry) -> Self {
        FrameWriter { pipelining: Some(pipelining), ..FrameWriter::new(io, codec) }
    }

    /// A server connection's writer: its writes give up as `guard` says, and it writes early
    /// only while `pipelining` says no other connection of its server pipelines.
    pub(crate) fn for_server(io: W, codec: C, guard: WriteGuard, pipelining: PipeliningEntry) -> Self {
        FrameWriter { guard: Some(guard), pipelining: Some(pipelining), ..FrameWriter::new(io, codec) }
    }

    fn writes_early(&self) -> bool {
        self.pipelining.as_ref().is_none_or(|entry| !entry.others_pipelining())
    }

    /// Encodes `frame`, first writing out what is buffered if it makes a chunk.
    pub(crate) async fn feed<T>(&mut self, frame: T) -> Result<(), CodecError>
    where
        C: EncodeInto<T>,
    {
        let len = self.out.len();
        let later_chunk = if self.out.holds_long_bodies() { LATER_CHUNK_OF_LONG_BODIES } else { LATER_CHUNK };
        // The shared count is read only once a first chunk is there, not per frame.
        let due = if self.started {
            len >= later_chunk
        } else {
            len >= FIRST_CHUNK && (len >= later_chunk || self.writes_early())
        };
        if due {
            self.write_out().await?;
            self.started = true;
        }
        self.codec.encode_into(frame, &mut self.out)
    }

    /// Ends the batch: writes out everything encoded so far.
    pub(crate) async fn flush(&mut self) -> Result<(), CodecError> {
        if let Some(entry) = &mut self.pipelining {
            entry.batch_written(self.started || self.out.len() >= FIRST_CHUNK);
        }
        self.started = false;
        self.write_out().await
    }

    /// Writes what is buffered, then shuts the write half down.
    pub(crate) async fn close(&mut self) -> Result<(), CodecError> {
        let close = async {
            write_all(&mut self.io, &mut self.out).await?;
            self.io.shutdown().await.map_err(CodecError::from)
        };
        match &self.guard {
            None => close.await,
            Some(guard) => guard.bound(close).await,
        }
    }

    async fn write_out(&mut self) -> Result<(), CodecError> {
        let write = write_all(&mut self.io, &mut self.out);
        match &self.guard {
            None => write.await,
            Some(guard) => guard.bound(write).await,
        }
    }
}

/// Writes all of `out` with vectored writes, then flushes `io`.
async fn write_all<W: AsyncWrite + Unpin>(io: &mut W, out: &mut WriteBuf) -> Result<(), CodecError> {
    while !out.is_empty() {
        let written = {
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let parts = out.io_slices(&mut slices);
            io.write_vectored(&slices[..parts]).await?
        };
        if written == 0 {
            return Err(io::Error::from(io::ErrorKind::WriteZero).into());
        }
        out.advance(written);
    }
    io.flush().await.map_err(CodecError::from)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use futures_util::StreamExt;
    use rpc_codec::{Frame, FrameCodec, Inbound, Metadata};
    use tokio::io::AsyncReadExt;
    use tokio_util::codec::FramedRead;

    use super::{FrameWriter, FIRST_CHUNK, LATER_CHUNK, LATER_CHUNK_OF_LONG_BODIES};
    use crate::provider::Pipelining;

    fn frame(id: u64) -> Frame {
        Frame::request(id, Metadata::call("svc", "m"), Bytes::from(vec![id as u8; 1024]))
    }

    #[tokio::test]
    async fn a_batch_starts_early_arrives_whole_in_order_and_leaves_the_buffer_rewound() {
        let (near, mut far) = tokio::io::duplex(1 << 20);
        let mut writer = FrameWriter::new(near, FrameCodec::default());
        for id in 0..10 {
            writer.feed(frame(id)).await.expect("feed");
        }
        // Ten 1 KiB frames, no flush yet: the first chunk is on the wire already.
        let mut early = vec![0u8; FIRST_CHUNK];
        far.read_exact(&mut early).await.expect("the first chunk was written before the flush");
        for id in 10..100 {
            writer.feed(frame(id)).await.expect("feed");
        }
        writer.flush().await.expect("flush");
        assert!(writer.out.is_empty());
        assert!(
            writer.out.copied().capacity() >= LATER_CHUNK,
            "the emptied buffer starts over at its allocation's beginning"
        );
        drop(writer);
        let mut wire = early;
        far.read_to_end(&mut wire).await.expect("read");
        let mut frames = FramedRead::new(&wire[..], FrameCodec::default());
        for id in 0..100 {
            match frames.next().await {
                Some(Ok(Inbound::Frame(f))) => assert_eq!((f.request_id, f.body), (id, frame(id).body)),
                other => panic!("frame {id}: {other:?}"),
            }
        }
        assert!(frames.next().await.is_none());
    }

    /// Takes everything offered and counts the vectored writes.
    #[derive(Default)]
    struct CountingWriter {
        writes: usize,
        bytes: usize,
    }

    impl tokio::io::AsyncWrite for CountingWriter {
        fn poll_write(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            self.poll_write_vectored(cx, &[std::io::IoSlice::new(buf)])
        }

        fn poll_write_vectored(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            slices: &[std::io::IoSlice<'_>],
        ) -> std::task::Poll<std::io::Result<usize>> {
            let len = slices.iter().map(|s| s.len()).sum();
            self.writes += 1;
            self.bytes += len;
            std::task::Poll::Ready(Ok(len))
        }

        fn is_write_vectored(&self) -> bool {
            true
        }

        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }

        fn poll_shutdown(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn long_frames_after_the_first_go_out_several_per_write() {
        let body = Bytes::from(vec![7u8; 64 * 1024]);
        let mut writer = FrameWriter::new(CountingWriter::default(), FrameCodec::default());
        let frames = 16;
        for id in 0..frames {
            writer.feed(Frame::request(id, Metadata::call("svc", "m"), body.clone())).await.expect("feed");
        }
        writer.flush().await.expect("flush");
        let (writes, bytes) = (writer.io.writes, writer.io.bytes);
        assert!(bytes > frames as usize * body.len());
        // The first frame alone, then about a chunk of long bodies per write (one frame per
        // write would be 16).
        let per_later_write = LATER_CHUNK_OF_LONG_BODIES / body.len();
        assert_eq!(writes, 1 + (frames as usize - 1).div_ceil(per_later_write), "{writes} writes");
    }

    #[tokio::test]
    async fn a_client_writes_early_only_while_no_other_client_connection_pipelines() {
        let clients = Pipelining::default();
        let mut busy = clients.connection();
        busy.batch_written(true);
        let mut writer =
            FrameWriter::for_client(CountingWriter::default(), FrameCodec::default(), clients.connection());
        // Ten 1 KiB frames: more than a first chunk, less than a later one.
        for id in 0..10 {
            writer.feed(frame(id)).await.expect("feed");
        }
        assert_eq!(writer.io.writes, 0, "another connection pipelines: the batch waits for its flush");
        writer.flush().await.expect("flush");
        assert_eq!(writer.io.writes, 1);

        drop(busy);
        for id in 0..10 {
            writer.feed(frame(id)).await.expect("feed");
        }
        assert_eq!(writer.io.writes, 2, "alone, it writes the first chunk before the flush");
    }
}
