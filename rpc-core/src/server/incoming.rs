use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use tokio::net::{TcpListener, TcpStream};

/// The connections a [`TcpListener`] accepts, as a stream, with `TCP_NODELAY` set on each
/// (replies are small and written whole; Nagle's delay would only add latency).
///
/// ```no_run
/// # mod rpc { pub use rpc_core::*; }
/// # async fn run(greeter: impl rpc::RpcService) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let incoming = rpc::server::TcpIncoming::new(listener);
/// rpc::Server::builder().add_service(greeter).serve_with_incoming(incoming, std::future::pending()).await
/// # }
/// ```
#[derive(Debug)]
pub struct TcpIncoming {
    listener: TcpListener,
}

impl TcpIncoming {
    /// The connections `listener` accepts.
    pub fn new(listener: TcpListener) -> TcpIncoming {
        TcpIncoming { listener }
    }

    /// The address listened on.
    pub fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }
}

impl Stream for TcpIncoming {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.listener.poll_accept(cx).map(|accepted| {
            Some(accepted.map(|(stream, peer)| {
                if let Err(e) = stream.set_nodelay(true) {
                    tracing::debug!(%peer, error = %e, "could not set TCP_NODELAY");
                }
                stream
            }))
        })
    }
}
