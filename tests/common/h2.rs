//! Raw HTTP/2 exchanges, to see a gRPC or Triple reply exactly as a server sent it.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};

/// A raw HTTP/2 exchange: status, headers, body and trailers as the server sent them.
pub struct RawReply {
    pub status: http::StatusCode,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    pub trailers: http::HeaderMap,
}

impl RawReply {
    /// `grpc-status` from the trailers, or from the headers of a trailers-only reply.
    pub fn grpc_status(&self) -> Option<&str> {
        self.trailers.get("grpc-status").or(self.headers.get("grpc-status")).and_then(|v| v.to_str().ok())
    }
}

pub async fn raw_call(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: Bytes) -> RawReply {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    let mut request = http::Request::post(format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let reply = sender.send_request(request.body(Full::new(body)).unwrap()).await.unwrap();
    let (parts, body) = reply.into_parts();
    let collected = body.collect().await.unwrap();
    let trailers = collected.trailers().cloned().unwrap_or_default();
    RawReply { status: parts.status, headers: parts.headers, body: collected.to_bytes(), trailers }
}

pub fn framed(message: &[u8]) -> Vec<u8> {
    let mut out = vec![0];
    out.extend_from_slice(&(message.len() as u32).to_be_bytes());
    out.extend_from_slice(message);
    out
}
