use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
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

/// A unary request's whole body (HTTP/2 or HTTP/1.1), at most `limit` bytes, arriving before
/// `deadline` with no pause longer than `idle`: a body that never ends holds its buffer, and
/// its stream, no longer than that. A body in one frame is kept as it came, not copied.
pub(crate) async fn read_whole(
    mut body: Incoming,
    limit: usize,
    deadline: Option<Instant>,
    idle: Duration,
) -> Result<Bytes, BodyError> {
    let mut first: Option<Bytes> = None;
    let mut more = BytesMut::new();
    loop {
        let wait = deadline.map_or(idle, |d| idle.min(d.saturating_duration_since(Instant::now())));
        let frame = match tokio::time::timeout(wait, body.frame()).await {
            Ok(frame) => frame,
            Err(_) if deadline.is_some_and(|d| d <= Instant::now()) => return Err(BodyError::Deadline),
            Err(_) => return Err(BodyError::Idle(idle)),
        };
        let data = match frame {
            None => break,
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => data,
                Err(_) => continue,
            },
            Some(Err(e)) => return Err(BodyError::Broken(e.to_string())),
        };
        let held = first.as_ref().map_or(0, Bytes::len) + more.len();
        if held + data.len() > limit {
            return Err(BodyError::TooLarge);
        }
        match &first {
            None => first = Some(data),
            Some(head) => {
                if more.is_empty() {
                    more.extend_from_slice(head);
                }
                more.extend_from_slice(&data);
            }
        }
    }
    Ok(if more.is_empty() { first.unwrap_or_default() } else { more.freeze() })
}
