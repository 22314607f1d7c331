//! The physical limit of the machine for this workload: tokio, a length-delimited codec and a
//! request id, multiplexed on one connection; the server echoes each frame inline, batching
//! the flush. No serialization, no routing, no task per request.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::{FramedRead, FramedWrite, LengthDelimitedCodec};

pub async fn serve(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(echo_connection(stream));
    }
}

async fn echo_connection(stream: TcpStream) -> std::io::Result<()> {
    let (read, write) = stream.into_split();
    let mut frames = FramedRead::new(read, LengthDelimitedCodec::new());
    let mut sink = FramedWrite::new(write, LengthDelimitedCodec::new());
    while let Some(frame) = frames.next().await {
        sink.feed(frame?.freeze()).await?;
        // Echo whatever else is already buffered, then flush once.
        while let Some(Some(frame)) = frames.next().now_or_never() {
            sink.feed(frame?.freeze()).await?;
        }
        SinkExt::<Bytes>::flush(&mut sink).await?;
    }
    Ok(())
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Bytes>>>>;

#[derive(Clone)]
pub struct Client {
    outbound: mpsc::Sender<Bytes>,
    pending: Pending,
    next_id: Arc<AtomicU64>,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Result<Client, String> {
        let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (read, write) = stream.into_split();
        let (outbound, mut queue) = mpsc::channel::<Bytes>(1024);
        let pending: Pending = Arc::default();
        tokio::spawn(async move {
            let mut sink = FramedWrite::new(write, LengthDelimitedCodec::new());
            while let Some(frame) = queue.recv().await {
                sink.feed(frame).await?;
                while let Ok(frame) = queue.try_recv() {
                    sink.feed(frame).await?;
                }
                SinkExt::<Bytes>::flush(&mut sink).await?;
            }
            Ok::<_, std::io::Error>(())
        });
        let replies = pending.clone();
        tokio::spawn(async move {
            let mut frames = FramedRead::new(read, LengthDelimitedCodec::new());
            while let Some(Ok(mut frame)) = frames.next().await {
                if frame.len() < 8 {
                    break;
                }
                let id = frame.get_u64();
                let slot = replies.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&id);
                if let Some(slot) = slot {
                    let _ = slot.send(frame.freeze());
                }
            }
            // Waiting callers see their senders dropped.
            replies.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
        });
        Ok(Client { outbound, pending, next_id: Arc::new(AtomicU64::new(0)) })
    }

    pub async fn echo(&self, payload: &Bytes) -> Result<Bytes, String> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut frame = BytesMut::with_capacity(8 + payload.len());
        frame.put_u64(id);
        frame.put_slice(payload);
        let (slot, reply) = oneshot::channel();
        self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(id, slot);
        self.outbound.send(frame.freeze()).await.map_err(|_| "connection closed".to_string())?;
        reply.await.map_err(|_| "connection closed".to_string())
    }
}
