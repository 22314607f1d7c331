use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncWrite, ReadHalf, WriteHalf};
use tokio::net::TcpStream;

/// A byte stream a server can serve: what [`ServerBuilder::serve_with_incoming`] accepts
/// (as tonic's `Connected`). It says where it comes from, for
/// [`Request::connection`](crate::Request::connection), and splits into halves the
/// protocols read and write from separately.
///
/// [`ServerBuilder::serve_with_incoming`]: crate::ServerBuilder::serve_with_incoming
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// use rpc::server::Connected;
/// fn peer_of(stream: &impl Connected) -> Option<std::net::SocketAddr> {
///     stream.peer_addr()
/// }
/// ```
pub trait Connected: AsyncRead + AsyncWrite + Send + Unpin + 'static {
    /// The half reads come from.
    type ReadHalf: AsyncRead + Send + Unpin + 'static;
    /// The half writes go to.
    type WriteHalf: AsyncWrite + Send + Unpin + 'static;

    /// The remote address, if the stream has one.
    fn peer_addr(&self) -> Option<SocketAddr> {
        None
    }

    /// The local address, if the stream has one.
    fn local_addr(&self) -> Option<SocketAddr> {
        None
    }

    /// The two halves ([`tokio::io::split`] suits any stream; TCP's owned halves need no lock).
    fn split(self) -> (Self::ReadHalf, Self::WriteHalf);
}

impl Connected for TcpStream {
    type ReadHalf = tokio::net::tcp::OwnedReadHalf;
    type WriteHalf = tokio::net::tcp::OwnedWriteHalf;

    fn peer_addr(&self) -> Option<SocketAddr> {
        TcpStream::peer_addr(self).ok()
    }

    fn local_addr(&self) -> Option<SocketAddr> {
        TcpStream::local_addr(self).ok()
    }

    fn split(self) -> (Self::ReadHalf, Self::WriteHalf) {
        self.into_split()
    }
}

impl Connected for tokio::io::DuplexStream {
    type ReadHalf = ReadHalf<tokio::io::DuplexStream>;
    type WriteHalf = WriteHalf<tokio::io::DuplexStream>;

    fn split(self) -> (Self::ReadHalf, Self::WriteHalf) {
        tokio::io::split(self)
    }
}

/// A TLS stream, server side (its addresses are the TCP stream's, known before the handshake).
impl<IO> Connected for tokio_rustls::server::TlsStream<IO>
where
    IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    type ReadHalf = ReadHalf<Self>;
    type WriteHalf = WriteHalf<Self>;

    fn split(self) -> (Self::ReadHalf, Self::WriteHalf) {
        tokio::io::split(self)
    }
}

/// A TLS stream, client side.
impl<IO> Connected for tokio_rustls::client::TlsStream<IO>
where
    IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    type ReadHalf = ReadHalf<Self>;
    type WriteHalf = WriteHalf<Self>;

    fn split(self) -> (Self::ReadHalf, Self::WriteHalf) {
        tokio::io::split(self)
    }
}

/// Any byte stream, with no addresses: what [`ServerBuilder::serve_io`] wraps its stream in.
///
/// [`ServerBuilder::serve_io`]: crate::ServerBuilder::serve_io
pub(crate) struct Unaddressed<IO>(pub(crate) IO);

impl<IO: AsyncRead + Unpin> AsyncRead for Unaddressed<IO> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Unaddressed<IO> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl<IO: AsyncRead + AsyncWrite + Send + Unpin + 'static> Connected for Unaddressed<IO> {
    type ReadHalf = ReadHalf<Unaddressed<IO>>;
    type WriteHalf = WriteHalf<Unaddressed<IO>>;

    fn split(self) -> (Self::ReadHalf, Self::WriteHalf) {
        tokio::io::split(self)
    }
}
