use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http_body::Body;
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::Status;

/// Why a whole request body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Over the limit: the rest was not buffered.
    TooLarge,
    /// The call's deadline passed while it arrived.
    Deadline,
    /// None of it arrived for this long.
    Idle(Duration),
    /// The peer broke it off.
    Broken(String),
}

impl BodyError {
    /// The call's status, the request not run; `too_large` says what the limit is.
    pub(crate) fn into_status(self, too_large: impl FnOnce() -> String) -> Status {
        match self {
            BodyError::TooLarge => Status::resource_exhausted(too_large()),
            BodyError::Deadline => Status::deadline_exceeded("deadline passed while the request arrived; not run"),
            BodyError::Idle(idle) => Status::cancelled(format!("no bytes of the request body for {idle:?}; not run")),
            BodyError::Broken(e) => Status::cancelled(format!("request body broken off: {e}")),
        }
    }
}

/// Chunks kept as they came at most; later ones are copied together into one. A peer sending
/// a body in one-byte DATA frames so costs a copy, not a `Bytes` handle per byte.
const MAX_CHUNKS: usize = 8;

/// A whole body as it arrived: its DATA chunks, the first [`MAX_CHUNKS`] as received (not
/// copied), and its trailers if it had any.
#[derive(Debug, Default)]
pub(crate) struct WholeBody {
    pub(crate) chunks: Vec<Bytes>,
    pub(crate) trailers: Option<HeaderMap>,
    /// Chunks past the first few, copied together; pushed to `chunks` at the end.
    overflow: BytesMut,
}

impl WholeBody {
    fn push(&mut self, data: Bytes) {
        if self.chunks.len() < MAX_CHUNKS {
            self.chunks.push(data);
        } else {
            self.overflow.extend_from_slice(&data);
        }
    }

    fn finish(mut self) -> WholeBody {
        if !self.overflow.is_empty() {
            let overflow = std::mem::take(&mut self.overflow).freeze();
            self.chunks.push(overflow);
        }
        self
    }

    /// The chunks as one buffer: the chunk itself if there is one, else a copy of them all.
    pub(crate) fn into_bytes(self) -> Bytes {
        concat(self.chunks)
    }
}

/// `chunks` in one buffer, copied only if there is more than one.
pub(crate) fn concat(mut chunks: Vec<Bytes>) -> Bytes {
    if chunks.len() <= 1 {
        return chunks.pop().unwrap_or_default();
    }
    let mut whole = BytesMut::with_capacity(chunks.iter().map(Bytes::len).sum());
    for chunk in &chunks {
        whole.extend_from_slice(chunk);
    }
    whole.freeze()
}

/// A unary request's whole body (HTTP/2 or HTTP/1.1) in one buffer; see [`read_chunks`].
pub(crate) async fn read_whole(
    body: Incoming,
    limit: usize,
    deadline: Option<Instant>,
    idle: Duration,
) -> Result<Bytes, BodyError> {
    read_chunks(body, limit, deadline, Some(idle)).await.map(WholeBody::into_bytes)
}

/// A whole body, at most `limit` bytes, arriving before `deadline` with no pause longer than
/// `idle`: a body that never ends holds its buffer, and its stream, no longer than that.
/// Without either, no timer is armed (a caller whose own deadline bounds the wait).
/// Chunks are kept as they came, so a caller can take a message that arrived in one of them
/// without copying it.
pub(crate) async fn read_chunks<B>(
    mut body: B,
    limit: usize,
    deadline: Option<Instant>,
    idle: Option<Duration>,
) -> Result<WholeBody, BodyError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let mut whole = WholeBody::default();
    let mut held = 0usize;
    loop {
        let frame = if idle.is_none() && deadline.is_none() {
            body.frame().await
        } else {
            let left = deadline.map_or(Duration::MAX, |d| d.saturating_duration_since(Instant::now()));
            let wait = idle.unwrap_or(Duration::MAX).min(left);
            match tokio::time::timeout(wait, body.frame()).await {
                Ok(frame) => frame,
                Err(_) if deadline.is_some_and(|d| d <= Instant::now()) => return Err(BodyError::Deadline),
                Err(_) => return Err(BodyError::Idle(wait)),
            }
        };
        let frame = match frame {
            None => return Ok(whole.finish()),
            Some(Ok(frame)) => frame,
            Some(Err(e)) => return Err(BodyError::Broken(e.to_string())),
        };
        let data = match frame.into_data() {
            Ok(data) => data,
            Err(frame) => {
                if let Ok(trailers) = frame.into_trailers() {
                    whole.trailers.get_or_insert_with(HeaderMap::new).extend(trailers);
                }
                continue;
            }
        };
        held += data.len();
        if held > limit {
            return Err(BodyError::TooLarge);
        }
        if !data.is_empty() {
            whole.push(data);
        }
    }
}
