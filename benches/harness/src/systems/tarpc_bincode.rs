//! tarpc: its `#[tarpc::service]`, bincode over length-delimited TCP.

use std::net::SocketAddr;

use bytes::Bytes;
use futures_util::{future, StreamExt};
use tarpc::server::incoming::{spawn_incoming, Incoming};
use tarpc::server::BaseChannel;
use tarpc::tokio_serde::formats::Bincode;
use tarpc::{client, context};

#[tarpc::service]
pub trait TarpcEcho {
    async fn echo(payload: Bytes) -> Bytes;
}

#[derive(Clone)]
struct EchoImpl;

impl TarpcEcho for EchoImpl {
    async fn echo(self, _: context::Context, payload: Bytes) -> Bytes {
        payload
    }
}

pub async fn serve(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let incoming = tarpc::serde_transport::tcp::listen_on(listener, Bincode::default)
        .await?
        .filter_map(|accepted| future::ready(accepted.ok()))
        .map(BaseChannel::with_defaults);
    spawn_incoming(incoming.execute(EchoImpl.serve())).await;
    Ok(())
}

#[derive(Clone)]
pub struct Client(TarpcEchoClient);

impl Client {
    pub async fn connect(addr: SocketAddr) -> Result<Client, String> {
        let mut transport = tarpc::serde_transport::tcp::connect(addr, Bincode::default);
        transport.config_mut().max_frame_length(16 * 1024 * 1024);
        let transport = transport.await.map_err(|e| e.to_string())?;
        transport.get_ref().set_nodelay(true).map_err(|e| e.to_string())?;
        let mut config = client::Config::default();
        // Enough for the highest concurrency the harness drives on one connection.
        config.max_in_flight_requests = 10_000;
        config.pending_request_buffer = 10_000;
        Ok(Client(TarpcEchoClient::new(config, transport).spawn()))
    }

    pub async fn echo(&self, payload: &Bytes) -> Result<Bytes, String> {
        self.0.echo(context::current(), payload.clone()).await.map_err(|e| e.to_string())
    }
}
