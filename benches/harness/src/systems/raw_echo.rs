//! The physical limit of the machine for this workload: frames of a length and a request id,
//! multiplexed on one connection, echoed inline by the server. No serialization, no routing,
//! no task per request, no deadlines, no errors beyond a closed connection.
//!
//! It uses the transport techniques `rpc` uses, so that no ratio above 1.0 can come from a
//! weak ceiling: callers wait in a slab slot named by the request id (no map, no channel per
//! call); each side gathers whatever is ready into one vectored write, with headers and short
//! bodies copied into a buffer that starts over once written and long bodies written from
//! where they are (`rpc::codec::WriteBuf`); the read buffer grows toward the frame it holds,
//! a read stops at the end of a long frame, and the next gets a buffer as long as it was.

use std::io::IoSlice;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Poll, Waker};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use rpc::codec::WriteBuf;
use slab::Slab;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

// A frame: its length (u32, of what follows), its request id (u64), its body.
/// What a read asks the socket for at least.
const READ_CHUNK: usize = 32 * 1024;
/// Frames at least this long are read to their end and no further, as `rpc` reads them: the
/// next frame starts in a buffer of its own, so its first bytes are never moved.
const LONG_FRAME: usize = 16 * 1024;
/// The largest buffer made up front for a frame as long as the last.
const MAX_FIT: usize = 128 * 1024;

pub async fn serve(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(echo_connection(stream));
    }
}

/// Reads what the socket has, queues an echo of every whole frame, writes them all at once.
async fn echo_connection(mut stream: TcpStream) -> std::io::Result<()> {
    let mut input = Input::default();
    let mut out = WriteBuf::new();
    loop {
        while let Some((id, body)) = input.next_frame() {
            put_frame(&mut out, id, &body);
        }
        write_all(&mut stream, &mut out).await?;
        if !input.read_more(&mut stream).await? {
            return Ok(());
        }
    }
}

fn put_frame(out: &mut WriteBuf, id: u64, body: &Bytes) {
    out.put_u32((8 + body.len()) as u32);
    out.put_u64(id);
    out.put_body(body);
}

/// A connection's read buffer.
struct Input {
    buffer: BytesMut,
    /// The length of the last frame if it was long (at most [`MAX_FIT`]), else 0.
    fit: usize,
}

impl Default for Input {
    fn default() -> Self {
        Input { buffer: BytesMut::with_capacity(READ_CHUNK), fit: 0 }
    }
}

impl Input {
    /// The length the frame at the front announces (prefix included), once it has arrived.
    fn announced(&self) -> Option<usize> {
        let prefix = self.buffer.get(..4)?;
        Some(4 + u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize)
    }

    /// The next whole frame: its id and body, a slice of the read buffer.
    fn next_frame(&mut self) -> Option<(u64, Bytes)> {
        let size = self.announced()?;
        if self.buffer.len() < size || size < 12 {
            return None;
        }
        self.fit = if size >= LONG_FRAME { size.min(MAX_FIT) } else { 0 };
        self.buffer.advance(4);
        let mut frame = self.buffer.split_to(size - 4).freeze();
        Some((frame.get_u64(), frame))
    }

    /// Reads once, with room for at least a chunk or the rest of a long frame, and never past
    /// a long frame's end; whether the peer is still there.
    async fn read_more<R: AsyncRead + Unpin>(&mut self, io: &mut R) -> std::io::Result<bool> {
        let held = self.buffer.len();
        let long_rest = self.announced().filter(|&size| size >= LONG_FRAME).map(|size| size - held);
        let wanted = long_rest.unwrap_or(0).max(READ_CHUNK).max(self.fit);
        if self.buffer.capacity() - held < wanted {
            // Moves a partial frame to the front when nothing else holds the buffer, else
            // allocates anew; as `rpc`'s reader does (see its note on page faults).
            self.buffer.reserve(wanted);
        }
        let room = self.buffer.capacity() - held;
        let offered = long_rest.map_or(room, |rest| rest.min(room));
        Ok(io.read_buf(&mut (&mut self.buffer).limit(offered)).await? > 0)
    }
}

async fn write_all<W: AsyncWrite + Unpin>(io: &mut W, out: &mut WriteBuf) -> std::io::Result<()> {
    while !out.is_empty() {
        let written = {
            let mut slices = [IoSlice::new(&[]); 64];
            let parts = out.io_slices(&mut slices);
            io.write_vectored(&slices[..parts]).await?
        };
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        out.advance(written);
    }
    Ok(())
}

/// A caller's slot: the reply once it came, and who to wake.
#[derive(Default)]
struct Slot {
    reply: Option<Bytes>,
    waker: Option<Waker>,
}

#[derive(Default)]
struct Calls {
    slots: Slab<Slot>,
    closed: bool,
}

type Pending = Arc<Mutex<Calls>>;

fn lock(pending: &Pending) -> std::sync::MutexGuard<'_, Calls> {
    pending.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Clone)]
pub struct Client {
    outbound: mpsc::Sender<(u64, Bytes)>,
    pending: Pending,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Result<Client, String> {
        let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (mut read, mut write) = stream.into_split();
        let (outbound, mut queue) = mpsc::channel::<(u64, Bytes)>(1024);
        let pending: Pending = Arc::default();
        tokio::spawn(async move {
            let mut out = WriteBuf::new();
            while let Some((id, body)) = queue.recv().await {
                put_frame(&mut out, id, &body);
                while let Ok((id, body)) = queue.try_recv() {
                    put_frame(&mut out, id, &body);
                }
                write_all(&mut write, &mut out).await?;
            }
            Ok::<_, std::io::Error>(())
        });
        let replies = pending.clone();
        tokio::spawn(async move {
            let mut input = Input::default();
            while input.read_more(&mut read).await.unwrap_or(false) {
                while let Some((id, body)) = input.next_frame() {
                    let mut calls = lock(&replies);
                    if let Some(slot) = calls.slots.get_mut(id as usize) {
                        slot.reply = Some(body);
                        if let Some(waker) = slot.waker.take() {
                            waker.wake();
                        }
                    }
                }
            }
            // Waiting callers see the connection gone.
            let mut calls = lock(&replies);
            calls.closed = true;
            for (_, slot) in calls.slots.iter_mut() {
                if let Some(waker) = slot.waker.take() {
                    waker.wake();
                }
            }
        });
        Ok(Client { outbound, pending })
    }

    pub async fn echo(&self, payload: &Bytes) -> Result<Bytes, String> {
        let id = lock(&self.pending).slots.insert(Slot::default());
        let sent = self.outbound.send((id as u64, payload.clone())).await;
        let reply = match sent {
            Ok(()) => {
                std::future::poll_fn(|cx| {
                    let mut calls = lock(&self.pending);
                    let closed = calls.closed;
                    let slot = &mut calls.slots[id];
                    match slot.reply.take() {
                        Some(reply) => Poll::Ready(Some(reply)),
                        None if closed => Poll::Ready(None),
                        None => {
                            slot.waker = Some(cx.waker().clone());
                            Poll::Pending
                        }
                    }
                })
                .await
            }
            Err(_) => None,
        };
        lock(&self.pending).slots.remove(id);
        reply.ok_or_else(|| "connection closed".to_string())
    }
}
