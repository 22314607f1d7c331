//! A test provider with an admin port, ready once the port says it started.

use std::time::Duration;

use super::{EchoImpl, EchoServer, Probe, TestServer};

/// Serves `EchoImpl` with an admin port on loopback and `configure` applied to the builder;
/// returns once `/startup` answers 200, with the admin port's base URL.
pub async fn provider_with_admin<L>(
    configure: impl FnOnce(rpc::ServerBuilder<tower::layer::util::Identity>) -> rpc::ServerBuilder<L>,
) -> (TestServer, String)
where
    L: tower::Layer<rpc::Router> + Send + 'static,
    L::Service: tower::Service<rpc::Request, Response = rpc::Response> + Clone + Send + 'static,
    <L::Service as tower::Service<rpc::Request>>::Error: Into<tower::BoxError>,
    <L::Service as tower::Service<rpc::Request>>::Future: Send,
{
    let probe = Probe::default();
    let builder = configure(rpc::Server::builder().admin("127.0.0.1:0"));
    let bound = builder
        .add_service(EchoServer::new(EchoImpl { probe: probe.clone() }))
        .bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let admin = format!("http://{}", bound.admin_addr().expect("an admin port"));
    let server = TestServer::spawn(bound, probe);
    assert!(wait_started(&admin).await, "the provider reports started");
    (server, admin)
}

/// Waits (up to 10 s) until `/startup` answers 200: a plain HTTP/1.1 GET over a socket.
async fn wait_started(admin: &str) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = admin.trim_start_matches("http://").to_string();
    for _ in 0..500 {
        if let Ok(mut stream) = tokio::net::TcpStream::connect(&host).await {
            let request = format!("GET /startup HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
            if stream.write_all(request.as_bytes()).await.is_ok() {
                let mut reply = String::new();
                let _ = stream.read_to_string(&mut reply).await;
                if reply.starts_with("HTTP/1.1 200") {
                    return true;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}
