//! tonic: gRPC over HTTP/2 with prost. The service is written out by hand (what tonic-build
//! generates for one unary method), so the benchmark needs no `protoc`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use bytes::Bytes;
use tonic::body::Body;
use tonic::codegen::http;
use tonic_prost::ProstCodec;

use super::tls::TlsFiles;
use crate::payload::Payload;

const PATH: &str = "/bench.Echo/Echo";

#[derive(Clone)]
struct EchoService;

impl tonic::server::NamedService for EchoService {
    const NAME: &'static str = "bench.Echo";
}

impl tower::Service<http::Request<Body>> for EchoService {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = tonic::codegen::BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        Box::pin(async move {
            if request.uri().path() != PATH {
                return Ok(tonic::Status::unimplemented("unknown method").into_http());
            }
            let echo = tower::service_fn(|request: tonic::Request<Payload>| async move {
                Ok::<_, tonic::Status>(tonic::Response::new(request.into_inner()))
            });
            let mut grpc = tonic::server::Grpc::new(ProstCodec::<Payload, Payload>::default());
            Ok(grpc.unary(echo, request).await)
        })
    }
}

pub async fn serve(listener: tokio::net::TcpListener, tls: Option<TlsFiles>) -> std::io::Result<()> {
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let mut builder = tonic::transport::Server::builder();
    if let Some((_, cert, key)) = tls {
        let identity = tonic::transport::Identity::from_pem(std::fs::read(cert)?, std::fs::read(key)?);
        builder = builder
            .tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))
            .map_err(std::io::Error::other)?;
    }
    builder.add_service(EchoService).serve_with_incoming(incoming).await.map_err(std::io::Error::other)
}

#[derive(Clone)]
pub struct Client(tonic::client::Grpc<tonic::transport::Channel>);

impl Client {
    pub async fn connect(addr: SocketAddr, tls: Option<TlsFiles>) -> Result<Client, String> {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let mut endpoint =
            tonic::transport::Endpoint::new(format!("{scheme}://{addr}")).map_err(|e| e.to_string())?.tcp_nodelay(true);
        if let Some((ca, _, _)) = tls {
            let ca = tonic::transport::Certificate::from_pem(std::fs::read(ca).map_err(|e| e.to_string())?);
            let config = tonic::transport::ClientTlsConfig::new().ca_certificate(ca).domain_name("localhost");
            endpoint = endpoint.tls_config(config).map_err(|e| e.to_string())?;
        }
        let channel = endpoint.connect().await.map_err(|e| e.to_string())?;
        Ok(Client(tonic::client::Grpc::new(channel)))
    }

    pub async fn echo(&self, payload: &Bytes) -> Result<Bytes, String> {
        let mut grpc = self.0.clone();
        grpc.ready().await.map_err(|e| e.to_string())?;
        let request = tonic::Request::new(Payload { data: payload.clone() });
        let path = http::uri::PathAndQuery::from_static(PATH);
        let reply =
            grpc.unary(request, path, ProstCodec::<Payload, Payload>::default()).await.map_err(|e| e.to_string())?;
        Ok(reply.into_inner().data)
    }
}
