use std::future::Future;
use std::io;
use std::task::Poll;
use std::time::Duration;

use rpc_codec::CodecError;
use tokio_util::sync::CancellationToken;

/// Bounds a server's writes to a peer: a write the peer does not take (it reads nothing, so
/// the socket's buffer stays full) fails after `limit`, and any blocked write fails at once
/// when the server's forced stop fires. Without it a connection whose peer never reads
/// would hold its task, and the server's shutdown, for as long as the peer stays.
#[derive(Clone)]
pub(crate) struct WriteGuard {
    pub(crate) limit: Duration,
    pub(crate) force: CancellationToken,
}

impl WriteGuard {
    /// Runs `write`, giving up as above. A write that completes on its first poll (nearly
    /// every one) arms no timer.
    pub(crate) async fn bound<F>(&self, write: F) -> Result<(), CodecError>
    where
        F: Future<Output = Result<(), CodecError>>,
    {
        tokio::pin!(write);
        if let Poll::Ready(done) = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await {
            return done;
        }
        tokio::select! {
            done = &mut write => done,
            () = tokio::time::sleep(self.limit) => {
                let limit = self.limit;
                tracing::debug!(?limit, "the peer has taken no bytes within the write timeout; closing");
                Err(CodecError::Io(io::Error::new(io::ErrorKind::TimedOut, format!("the peer read nothing for {limit:?}"))))
            }
            () = self.force.cancelled() => {
                Err(CodecError::Io(io::Error::other("the server stopped while a write to the peer was blocked")))
            }
        }
    }
}
