//! A test service and helpers shared by the end-to-end tests. Servers bind 127.0.0.1:0 and
//! stop when their handle is dropped or shut down.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rpc::{CallContext, Status};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub mod admin;
pub mod greeter;
pub mod greetings;
pub mod h2;
pub mod java;
pub mod numbers;
pub mod python;
pub mod servers;
pub mod tls;

/// A message usable with every serialization: prost for protobuf, serde for msgpack/JSON.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
pub struct User {
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(string, repeated, tag = "3")]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Shape {
    Circle { r: f64 },
    Square(f64),
}

#[rpc::service(name = "test.Echo", version = "1.0.0")]
pub trait Echo {
    async fn echo(&self, text: String) -> Result<String, Status>;
    #[rpc(idempotent)]
    async fn add(&self, a: i64, b: i64) -> Result<i64, Status>;
    async fn nothing(&self) -> Result<(), Status>;
    async fn area(&self, shapes: Vec<Shape>, scale: Option<f64>) -> Result<f64, Status>;
    async fn user(&self, user: User) -> Result<User, Status>;
    /// Sleeps, then answers how long it slept.
    async fn sleep_ms(&self, ms: u64) -> Result<u64, Status>;
    async fn panic(&self, message: String) -> Result<(), Status>;
    async fn fail(&self, message: String) -> Result<(), Status>;
    async fn blob(&self, len: u32) -> Result<Vec<u8>, Status>;
    /// Echoes the caller's attachment `key` and whether a deadline came along.
    async fn attachment(&self, key: String) -> Result<(Option<String>, bool), Status>;
    #[rpc(oneway)]
    async fn record(&self, note: String) -> Result<(), Status>;
    #[rpc(name = "Renamed")]
    async fn renamed(&self) -> Result<String, Status>;
}

/// Counters a test can watch from outside the server.
#[derive(Clone, Default)]
pub struct Probe {
    pub started: Arc<AtomicUsize>,
    pub finished: Arc<AtomicUsize>,
    pub recorded: Arc<std::sync::Mutex<Vec<String>>>,
    /// While set, `record` waits before recording.
    pub hold_records: Arc<std::sync::atomic::AtomicBool>,
}

#[derive(Clone, Default)]
pub struct EchoImpl {
    pub probe: Probe,
}

impl Echo for EchoImpl {
    async fn echo(&self, text: String) -> Result<String, Status> {
        Ok(text)
    }
    async fn add(&self, a: i64, b: i64) -> Result<i64, Status> {
        a.checked_add(b).ok_or_else(|| Status::out_of_range("i64 overflow"))
    }
    async fn nothing(&self) -> Result<(), Status> {
        Ok(())
    }
    async fn area(&self, shapes: Vec<Shape>, scale: Option<f64>) -> Result<f64, Status> {
        let total: f64 = shapes
            .iter()
            .map(|s| match s {
                Shape::Circle { r } => std::f64::consts::PI * r * r,
                Shape::Square(side) => side * side,
            })
            .sum();
        Ok(total * scale.unwrap_or(1.0))
    }
    async fn user(&self, mut user: User) -> Result<User, Status> {
        user.roles.push("seen".into());
        Ok(user)
    }
    async fn sleep_ms(&self, ms: u64) -> Result<u64, Status> {
        self.probe.started.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        self.probe.finished.fetch_add(1, Ordering::SeqCst);
        Ok(ms)
    }
    async fn panic(&self, message: String) -> Result<(), Status> {
        panic!("{message}")
    }
    async fn fail(&self, message: String) -> Result<(), Status> {
        Err(Status::failed_precondition(message))
    }
    async fn blob(&self, len: u32) -> Result<Vec<u8>, Status> {
        Ok(vec![7; len as usize])
    }
    async fn attachment(&self, key: String) -> Result<(Option<String>, bool), Status> {
        let context = CallContext::current().ok_or_else(|| Status::internal("no call context"))?;
        Ok((context.attachments.get(&key).map(str::to_string), context.deadline.is_some()))
    }
    async fn record(&self, note: String) -> Result<(), Status> {
        while self.probe.hold_records.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        self.probe.recorded.lock().unwrap().push(note);
        Ok(())
    }
    async fn renamed(&self) -> Result<String, Status> {
        Ok("renamed".into())
    }
}

/// A running test server; dropping it stops the server abruptly, `shutdown` gracefully.
pub struct TestServer {
    pub addr: SocketAddr,
    pub probe: Probe,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    /// Serves `EchoImpl` with `configure` applied to the builder.
    pub async fn start_with(
        configure: impl FnOnce(
            rpc::ServerBuilder<tower::layer::util::Identity>,
        ) -> rpc::ServerBuilder<tower::layer::util::Identity>,
    ) -> TestServer {
        let probe = Probe::default();
        let builder = configure(rpc::Server::builder().add_service(EchoServer::new(EchoImpl { probe: probe.clone() })));
        let bound = builder.bind("127.0.0.1:0").await.expect("bind loopback");
        TestServer::spawn(bound, probe)
    }

    /// Serves `EchoImpl` behind `layer`.
    pub async fn start_layered<L>(layer: L) -> TestServer
    where
        L: tower::Layer<rpc::Router> + Send + 'static,
        L::Service: tower::Service<rpc::Request, Response = rpc::Response> + Clone + Send + 'static,
        <L::Service as tower::Service<rpc::Request>>::Error: Into<tower::BoxError>,
        <L::Service as tower::Service<rpc::Request>>::Future: Send,
    {
        let probe = Probe::default();
        let service = EchoServer::new(EchoImpl { probe: probe.clone() });
        let bound =
            rpc::Server::builder().layer(layer).add_service(service).bind("127.0.0.1:0").await.expect("bind loopback");
        TestServer::spawn(bound, probe)
    }

    pub async fn start() -> TestServer {
        TestServer::start_with(|b| b.shutdown_grace(Duration::from_secs(5))).await
    }

    pub fn spawn<L>(bound: rpc::BoundServer<L>, probe: Probe) -> TestServer
    where
        L: tower::Layer<rpc::Router> + Send + 'static,
        L::Service: tower::Service<rpc::Request, Response = rpc::Response> + Clone + Send + 'static,
        <L::Service as tower::Service<rpc::Request>>::Error: Into<tower::BoxError>,
        <L::Service as tower::Service<rpc::Request>>::Future: Send,
    {
        let addr = bound.local_addr().expect("local addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(bound.serve_with_shutdown(async move {
            let _ = stopped.await;
        }));
        TestServer { addr, probe, stop: Some(stop), task }
    }

    pub async fn client(&self) -> EchoClient {
        EchoClient::connect(self.addr).await.expect("connect to test server")
    }

    /// Graceful shutdown; returns when the server has stopped.
    pub async fn shutdown(mut self) {
        let _ = self.stop.take().map(|s| s.send(()));
        let task = &mut self.task;
        tokio::time::timeout(Duration::from_secs(20), task).await.expect("server stops in time").unwrap().unwrap();
    }

    /// Starts a graceful shutdown without waiting for it.
    pub fn begin_shutdown(&mut self) {
        let _ = self.stop.take().map(|s| s.send(()));
    }

    pub async fn wait_stopped(&mut self) {
        tokio::time::timeout(Duration::from_secs(20), &mut self.task)
            .await
            .expect("server stops in time")
            .unwrap()
            .unwrap();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
