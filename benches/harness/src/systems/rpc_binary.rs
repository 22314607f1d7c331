//! Our framework: `#[rpc::service]` over the binary protocol (and over gRPC, same server).

use std::net::SocketAddr;

use bytes::Bytes;
use rpc::metrics::{Metrics, MetricsLayer};
use rpc::transport::Compression;
use rpc::{CallOptions, Channel, Protocol, SerializationId, Status};
use tokio::net::TcpListener;
use tower::Layer;

use super::tls::TlsFiles;
use crate::payload::Payload;

#[rpc::service(name = "bench.Echo")]
pub trait Echo {
    async fn echo(&self, payload: Payload) -> Result<Payload, Status>;
}

/// The echo provider: returns its argument.
pub struct EchoImpl;

impl Echo for EchoImpl {
    async fn echo(&self, payload: Payload) -> Result<Payload, Status> {
        Ok(payload)
    }
}

pub async fn serve(listener: TcpListener, tls: Option<TlsFiles>) -> std::io::Result<()> {
    let mut builder = rpc::Server::builder();
    if let Some((_, cert, key)) = tls {
        builder = builder.tls(rpc::tls::ServerTls::from_pem_files(cert, key).build()?);
    }
    // Every connection of the load comes from one address; the per-address limit (2,048 by
    // default, against one peer taking every slot) would refuse the 10,000-connection runs.
    builder = builder.max_connections(16_384, 16_384);
    builder.add_service(EchoServer::new(EchoImpl)).bind_listener(listener).serve().await
}

/// [`serve`] with a `MetricsLayer`, recording into the process's Prometheus recorder.
pub async fn serve_metered(listener: TcpListener) -> std::io::Result<()> {
    rpc::metrics::install_prometheus().map_err(std::io::Error::other)?;
    rpc::Server::builder()
        .layer(MetricsLayer::server())
        .max_connections(16_384, 16_384)
        .add_service(EchoServer::new(EchoImpl))
        .bind_listener(listener)
        .serve()
        .await
}

/// [`serve`] compressing gRPC replies of 1 KiB and more with `compression`.
pub async fn serve_compressed(listener: TcpListener, compression: Compression) -> std::io::Result<()> {
    rpc::Server::builder()
        .grpc_compression(compression, 1024)
        .add_service(EchoServer::new(EchoImpl))
        .bind_listener(listener)
        .serve()
        .await
}

/// A msgpack client whose channel is wrapped in a `MetricsLayer`.
#[derive(Clone)]
pub struct MeteredClient(EchoClient<Metrics<Channel>>);

impl MeteredClient {
    pub async fn connect(addr: SocketAddr) -> Result<MeteredClient, String> {
        rpc::metrics::install_prometheus()?;
        let channel = Channel::connect(addr).await.map_err(|e| e.to_string())?;
        let metered = MetricsLayer::client().layer(channel);
        Ok(MeteredClient(
            EchoClient::new(metered).with_options(CallOptions::new().serialization(SerializationId::MsgPack)),
        ))
    }

    pub async fn echo(&self, payload: &Bytes) -> Result<Bytes, String> {
        let reply = self.0.echo(Payload { data: payload.clone() }).await.map_err(|e| e.to_string())?;
        Ok(reply.data)
    }
}

#[derive(Clone)]
pub struct Client(EchoClient);

impl Client {
    pub async fn connect(addr: SocketAddr, serialization: SerializationId) -> Result<Client, String> {
        let channel = Channel::connect(addr).await.map_err(|e| e.to_string())?;
        Ok(Client(EchoClient::new(channel).with_options(CallOptions::new().serialization(serialization))))
    }

    /// Over gRPC (HTTP/2), protobuf bodies.
    pub async fn grpc(addr: SocketAddr) -> Result<Client, String> {
        let channel = Channel::builder().protocol(Protocol::Grpc).connect(addr).await.map_err(|e| e.to_string())?;
        let options = CallOptions::new().serialization(SerializationId::Protobuf);
        Ok(Client(EchoClient::new(channel).with_options(options)))
    }

    /// Over gRPC with protobuf bodies, requests of 1 KiB and more compressed.
    pub async fn grpc_compressed(addr: SocketAddr, compression: Compression) -> Result<Client, String> {
        let channel = Channel::builder()
            .protocol(Protocol::Grpc)
            .grpc_compression(compression, 1024)
            .connect(addr)
            .await
            .map_err(|e| e.to_string())?;
        let options = CallOptions::new().serialization(SerializationId::Protobuf);
        Ok(Client(EchoClient::new(channel).with_options(options)))
    }

    /// Over `protocol` with Hessian2 bodies: dubbo2, or Triple in Java's wrapper.
    pub async fn over(addr: SocketAddr, protocol: Protocol) -> Result<Client, String> {
        let channel = Channel::builder().protocol(protocol).connect(addr).await.map_err(|e| e.to_string())?;
        let options = CallOptions::new().serialization(SerializationId::Hessian2);
        Ok(Client(EchoClient::new(channel).with_options(options)))
    }

    /// Over TLS in `protocol` (the binary protocol with msgpack, or gRPC with protobuf).
    pub async fn tls(addr: SocketAddr, protocol: Protocol, (ca, _, _): TlsFiles) -> Result<Client, String> {
        let tls = rpc::tls::ClientTls::with_ca_file(ca).build().map_err(|e| e.to_string())?;
        let channel = Channel::builder().protocol(protocol).tls(tls).connect(addr).await.map_err(|e| e.to_string())?;
        let serialization =
            if protocol == Protocol::Grpc { SerializationId::Protobuf } else { SerializationId::MsgPack };
        Ok(Client(EchoClient::new(channel).with_options(CallOptions::new().serialization(serialization))))
    }

    /// Through the cluster client over a one-endpoint list; returns once a call got through.
    pub async fn cluster(addr: SocketAddr) -> Result<Client, String> {
        let channel = Channel::builder().endpoints([addr.to_string()]).build().map_err(|e| e.to_string())?;
        let client = Client(EchoClient::new(channel));
        client.echo(&Bytes::from_static(b"ready")).await?;
        Ok(client)
    }

    pub async fn echo(&self, payload: &Bytes) -> Result<Bytes, String> {
        let reply = self.0.echo(Payload { data: payload.clone() }).await.map_err(|e| e.to_string())?;
        Ok(reply.data)
    }
}
