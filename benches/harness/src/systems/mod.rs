//! The systems under test: each has a server and a client that echo a payload.

mod raw_echo;
pub mod rpc_binary;
mod tarpc_bincode;
mod tls;
mod tonic_grpc;

use std::net::SocketAddr;

use bytes::Bytes;
use rpc::transport::Compression;
use rpc::{Protocol, SerializationId};
use tokio::net::TcpListener;

/// What a benchmark point runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum System {
    /// Our binary protocol, msgpack bodies.
    RpcMsgpack,
    /// `rpc-msgpack` with a `MetricsLayer` on both sides, recording into a Prometheus
    /// recorder: what metrics cost.
    RpcMsgpackMetrics,
    /// Our binary protocol, protobuf bodies.
    RpcProtobuf,
    /// Our binary protocol, msgpack bodies, through the cluster client (one endpoint, with
    /// its pool, balancer, breaker and failover): the cluster stack's cost over `rpc-msgpack`.
    RpcCluster,
    /// Our gRPC-over-HTTP/2 transport (protobuf bodies), both ends ours: the server is the
    /// same `rpc::Server` (it serves both protocols on one port), the client a gRPC channel.
    RpcGrpc,
    /// `rpc-grpc` with gzip on both sides (replies from 1 KiB; see `--compressible`).
    RpcGrpcGzip,
    /// `rpc-grpc` with zstd on both sides (replies from 1 KiB; see `--compressible`).
    RpcGrpcZstd,
    /// Dubbo's dubbo2 protocol with Hessian2 bodies, both ends ours (the same server).
    RpcDubbo,
    /// Triple as Java Dubbo speaks it for interface services: HTTP/2 with Hessian2 arguments
    /// in Triple's wrapper, both ends ours.
    RpcTriple,
    /// `rpc-msgpack` over TLS (rustls).
    RpcMsgpackTls,
    /// `rpc-grpc` over TLS (rustls, ALPN `h2`).
    RpcGrpcTls,
    /// tonic (gRPC over HTTP/2, prost).
    Tonic,
    /// tonic over TLS (its rustls with ring).
    TonicTls,
    /// tarpc (bincode over length-delimited TCP).
    Tarpc,
    /// A minimal multiplexed echo: length-delimited frames carrying a request id, echoed inline.
    Raw,
}

impl System {
    pub const ALL: [System; 15] = [
        System::Raw,
        System::RpcMsgpack,
        System::RpcMsgpackMetrics,
        System::RpcProtobuf,
        System::RpcCluster,
        System::RpcGrpc,
        System::RpcGrpcGzip,
        System::RpcGrpcZstd,
        System::RpcDubbo,
        System::RpcTriple,
        System::Tarpc,
        System::Tonic,
        System::RpcMsgpackTls,
        System::RpcGrpcTls,
        System::TonicTls,
    ];

    pub fn name(self) -> &'static str {
        match self {
            System::RpcMsgpack => "rpc-msgpack",
            System::RpcMsgpackMetrics => "rpc-msgpack-metrics",
            System::RpcProtobuf => "rpc-protobuf",
            System::RpcCluster => "rpc-cluster",
            System::RpcGrpc => "rpc-grpc",
            System::RpcGrpcGzip => "rpc-grpc-gzip",
            System::RpcGrpcZstd => "rpc-grpc-zstd",
            System::RpcDubbo => "rpc-dubbo",
            System::RpcTriple => "rpc-triple",
            System::Tonic => "tonic",
            System::RpcMsgpackTls => "rpc-msgpack-tls",
            System::RpcGrpcTls => "rpc-grpc-tls",
            System::TonicTls => "tonic-tls",
            System::Tarpc => "tarpc",
            System::Raw => "raw",
        }
    }
}

/// Serves `system` on `listener` until the process ends.
pub async fn serve(system: System, listener: TcpListener) -> std::io::Result<()> {
    match system {
        System::RpcMsgpack
        | System::RpcProtobuf
        | System::RpcCluster
        | System::RpcGrpc
        | System::RpcDubbo
        | System::RpcTriple => rpc_binary::serve(listener, None).await,
        System::RpcMsgpackMetrics => rpc_binary::serve_metered(listener).await,
        System::RpcGrpcGzip => rpc_binary::serve_compressed(listener, Compression::Gzip).await,
        System::RpcGrpcZstd => rpc_binary::serve_compressed(listener, Compression::Zstd).await,
        System::RpcMsgpackTls | System::RpcGrpcTls => {
            rpc_binary::serve(listener, Some(tls::files().map_err(std::io::Error::other)?)).await
        }
        System::Tonic => tonic_grpc::serve(listener, None).await,
        System::TonicTls => tonic_grpc::serve(listener, Some(tls::files().map_err(std::io::Error::other)?)).await,
        System::Tarpc => tarpc_bincode::serve(listener).await,
        System::Raw => raw_echo::serve(listener).await,
    }
}

/// One connection's client of a system.
#[derive(Clone)]
pub enum Client {
    Rpc(rpc_binary::Client),
    RpcMetered(rpc_binary::MeteredClient),
    Tonic(tonic_grpc::Client),
    Tarpc(tarpc_bincode::Client),
    Raw(raw_echo::Client),
}

impl Client {
    pub async fn connect(system: System, addr: SocketAddr) -> Result<Client, String> {
        Ok(match system {
            System::RpcMsgpack => Client::Rpc(rpc_binary::Client::connect(addr, SerializationId::MsgPack).await?),
            System::RpcMsgpackMetrics => Client::RpcMetered(rpc_binary::MeteredClient::connect(addr).await?),
            System::RpcProtobuf => Client::Rpc(rpc_binary::Client::connect(addr, SerializationId::Protobuf).await?),
            System::RpcCluster => Client::Rpc(rpc_binary::Client::cluster(addr).await?),
            System::RpcGrpc => Client::Rpc(rpc_binary::Client::grpc(addr).await?),
            System::RpcGrpcGzip => Client::Rpc(rpc_binary::Client::grpc_compressed(addr, Compression::Gzip).await?),
            System::RpcGrpcZstd => Client::Rpc(rpc_binary::Client::grpc_compressed(addr, Compression::Zstd).await?),
            System::RpcDubbo => Client::Rpc(rpc_binary::Client::over(addr, Protocol::Dubbo).await?),
            System::RpcTriple => Client::Rpc(rpc_binary::Client::over(addr, Protocol::Grpc).await?),
            System::RpcMsgpackTls => Client::Rpc(rpc_binary::Client::tls(addr, Protocol::Binary, tls::files()?).await?),
            System::RpcGrpcTls => Client::Rpc(rpc_binary::Client::tls(addr, Protocol::Grpc, tls::files()?).await?),
            System::Tonic => Client::Tonic(tonic_grpc::Client::connect(addr, None).await?),
            System::TonicTls => Client::Tonic(tonic_grpc::Client::connect(addr, Some(tls::files()?)).await?),
            System::Tarpc => Client::Tarpc(tarpc_bincode::Client::connect(addr).await?),
            System::Raw => Client::Raw(raw_echo::Client::connect(addr).await?),
        })
    }

    /// Echoes `payload`; checks the reply has its length.
    pub async fn echo(&self, payload: &Bytes) -> Result<(), String> {
        let reply = match self {
            Client::Rpc(client) => client.echo(payload).await?,
            Client::RpcMetered(client) => client.echo(payload).await?,
            Client::Tonic(client) => client.echo(payload).await?,
            Client::Tarpc(client) => client.echo(payload).await?,
            Client::Raw(client) => client.echo(payload).await?,
        };
        if reply.len() != payload.len() {
            return Err(format!("echo returned {} bytes, sent {}", reply.len(), payload.len()));
        }
        Ok(())
    }
}
