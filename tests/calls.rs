//! Calls that succeed, over real loopback sockets.

mod common;

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::{Shape, TestServer, User, ECHO_DESCRIPTOR};
use rpc::{CallOptions, SerializationId, Status};

#[tokio::test]
async fn every_serialization_carries_every_kind_of_argument() {
    let server = TestServer::start().await;
    let base = server.client().await;
    for serialization in [SerializationId::MsgPack, SerializationId::Json] {
        let client = base.with_options(CallOptions::new().serialization(serialization));
        assert_eq!(client.echo("héllo 🌍".into()).await.unwrap(), "héllo 🌍", "{serialization}");
        assert_eq!(client.add(i64::MAX - 1, 1).await.unwrap(), i64::MAX);
        client.nothing().await.unwrap();
        let shapes = vec![Shape::Square(2.0), Shape::Circle { r: 1.0 }];
        let area = client.area(shapes, Some(2.0)).await.unwrap();
        assert!((area - 2.0 * (4.0 + std::f64::consts::PI)).abs() < 1e-9);
        assert_eq!(client.area(vec![], None).await.unwrap(), 0.0);
        assert_eq!(client.blob(3).await.unwrap(), vec![7, 7, 7]);
        assert_eq!(client.renamed().await.unwrap(), "renamed");
    }
    for serialization in [SerializationId::MsgPack, SerializationId::Json, SerializationId::Protobuf] {
        let client = base.with_options(CallOptions::new().serialization(serialization));
        let user = User { id: 7, name: "ada".into(), roles: vec!["admin".into()] };
        let back = client.user(user.clone()).await.unwrap();
        assert_eq!(back.roles, vec!["admin".to_string(), "seen".to_string()], "{serialization}");
        assert_eq!((back.id, back.name), (user.id, user.name));
    }
    // Protobuf carries strings and integers as its well-known wrapper messages.
    let proto = base.with_options(CallOptions::new().serialization(SerializationId::Protobuf));
    assert_eq!(proto.echo("wrapped".into()).await.unwrap(), "wrapped");
    proto.nothing().await.unwrap();
}

#[tokio::test]
async fn protobuf_refuses_types_it_cannot_carry_before_sending() {
    let server = TestServer::start().await;
    let client = server.client().await.with_options(CallOptions::new().serialization(SerializationId::Protobuf));
    // Two arguments form a tuple, which is not a protobuf message.
    let err = client.add(1, 2).await.unwrap_err();
    assert_eq!(err.code(), rpc::Code::InvalidArgument);
    assert!(err.message().contains("protobuf serialization is not available"), "{err}");
}

#[tokio::test]
async fn attachments_and_deadline_reach_the_handler() {
    let server = TestServer::start().await;
    let client = server.client().await;
    assert_eq!(client.attachment("tenant".into()).await.unwrap(), (None, false));
    let options = CallOptions::new().attachment("tenant", "acme").timeout(Duration::from_secs(5));
    let (tenant, has_deadline) = client.with_options(options).attachment("tenant".into()).await.unwrap();
    assert_eq!(tenant.as_deref(), Some("acme"));
    assert!(has_deadline);
}

#[tokio::test]
async fn oneway_calls_return_at_once_and_still_run() {
    let server = TestServer::start().await;
    let client = server.client().await;
    // The handler is held until released: the calls return without waiting for it.
    server.probe.hold_records.store(true, Ordering::SeqCst);
    for i in 0..10 {
        let sent = tokio::time::timeout(Duration::from_secs(10), client.record(format!("note {i}")));
        sent.await.expect("a oneway call returns while its handler is held").unwrap();
    }
    assert!(server.probe.recorded.lock().unwrap().is_empty());
    server.probe.hold_records.store(false, Ordering::SeqCst);
    // A request-response call after them on the same connection is answered after they were read.
    client.echo("barrier".into()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.probe.recorded.lock().unwrap().len() < 10 {
        assert!(Instant::now() < deadline, "oneway calls were not run");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(ECHO_DESCRIPTOR.method("record").unwrap().oneway);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_concurrent_calls_on_one_connection_get_their_own_replies() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let calls = (0..10_000u64).map(|i| {
        let client = client.clone();
        tokio::spawn(async move {
            let text = format!("call-{i}");
            let reply = client.echo(text.clone()).await.expect("call succeeds");
            assert_eq!(reply, text, "cross-talk: call {i} got another call's reply");
            i
        })
    });
    let mut seen = HashSet::new();
    for call in calls.collect::<Vec<_>>() {
        seen.insert(call.await.unwrap());
    }
    assert_eq!(seen.len(), 10_000);
}

#[tokio::test]
async fn a_slow_call_does_not_hold_up_fast_ones_on_the_same_connection() {
    let server = TestServer::start().await;
    let client = server.client().await;
    let slow = tokio::spawn({
        let client = client.clone();
        async move { client.sleep_ms(5_000).await }
    });
    // Wait until the slow call runs on the provider, then time fast calls behind it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.probe.started.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the slow call never started");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let started = Instant::now();
    for i in 0..50 {
        assert_eq!(client.add(i, 1).await.unwrap(), i + 1);
    }
    assert!(!slow.is_finished(), "the slow call finished before the fast ones: the test proves nothing");
    assert!(started.elapsed() < Duration::from_secs(4), "fast calls waited: {:?}", started.elapsed());
    assert_eq!(slow.await.unwrap().unwrap(), 5_000);
}

#[tokio::test]
async fn server_layers_see_every_request() {
    // An auth layer: refuses calls without the right attachment.
    #[derive(Clone)]
    struct RequireToken<S>(S);
    impl<S> tower::Service<rpc::Request> for RequireToken<S>
    where
        S: tower::Service<rpc::Request, Response = rpc::Response, Error = Status>,
        S::Future: Send + 'static,
    {
        type Response = rpc::Response;
        type Error = Status;
        type Future = rpc::BoxFuture<Result<rpc::Response, Status>>;
        fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Status>> {
            self.0.poll_ready(cx)
        }
        fn call(&mut self, request: rpc::Request) -> Self::Future {
            if request.attachments().get("token") != Some("secret") {
                return Box::pin(std::future::ready(Err(Status::unauthenticated("missing token"))));
            }
            Box::pin(self.0.call(request))
        }
    }

    let server = TestServer::start_layered(tower::layer::layer_fn(RequireToken)).await;
    let client = server.client().await;
    assert_eq!(client.echo("x".into()).await.unwrap_err().code(), rpc::Code::Unauthenticated);
    let authed = client.with_options(CallOptions::new().attachment("token", "secret"));
    assert_eq!(authed.echo("x".into()).await.unwrap(), "x");
}

#[tokio::test]
async fn stock_tower_middleware_errors_become_statuses() {
    let server = TestServer::start_layered(tower::timeout::TimeoutLayer::new(Duration::from_millis(50))).await;
    let client = server.client().await;
    assert_eq!(client.sleep_ms(1).await.unwrap(), 1);
    assert_eq!(client.sleep_ms(1_000).await.unwrap_err().code(), rpc::Code::DeadlineExceeded);
}

/// A user error type that converts to and from `Status` works as the method's error.
#[derive(Debug, PartialEq)]
enum BankError {
    Insufficient { missing: u64 },
    Rpc(Status),
}
impl From<BankError> for Status {
    fn from(e: BankError) -> Status {
        match e {
            BankError::Insufficient { missing } => Status::failed_precondition(format!("insufficient:{missing}")),
            BankError::Rpc(status) => status,
        }
    }
}
impl From<Status> for BankError {
    fn from(status: Status) -> BankError {
        match status.message().strip_prefix("insufficient:").and_then(|n| n.parse().ok()) {
            Some(missing) => BankError::Insufficient { missing },
            None => BankError::Rpc(status),
        }
    }
}

#[rpc::service(name = "test.Bank")]
trait Bank {
    async fn withdraw(&self, amount: u64) -> Result<u64, BankError>;
    /// A method with a default body: providers need not implement it.
    async fn currency(&self) -> Result<String, BankError> {
        Ok("EUR".to_string())
    }
}

struct Vault;
impl Bank for Vault {
    async fn withdraw(&self, amount: u64) -> Result<u64, BankError> {
        match amount {
            0..=100 => Ok(100 - amount),
            _ => Err(BankError::Insufficient { missing: amount - 100 }),
        }
    }
}

#[tokio::test]
async fn user_error_types_round_trip_through_status() {
    let bound = rpc::Server::builder().add_service(BankServer::new(Vault)).bind("127.0.0.1:0").await.unwrap();
    let server = TestServer::spawn(bound, common::Probe::default());
    let client = BankClient::connect(server.addr).await.unwrap();
    assert_eq!(client.withdraw(30).await, Ok(70));
    assert_eq!(client.withdraw(130).await, Err(BankError::Insufficient { missing: 30 }));
    assert_eq!(client.currency().await, Ok("EUR".to_string()));
    assert_eq!(BANK_DESCRIPTOR.name, "test.Bank");
    assert_eq!(BANK_DESCRIPTOR.version, "");
}

#[tokio::test]
async fn calls_work_over_an_in_memory_stream() {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let server = rpc::Server::builder().add_service(common::EchoServer::new(common::EchoImpl::default()));
    tokio::spawn(server.serve_io(server_io));
    let client = common::EchoClient::new(rpc::Channel::builder().connect_io(client_io, "in-memory"));
    assert_eq!(client.echo("no sockets".into()).await.unwrap(), "no sockets");
    assert_eq!(client.add(2, 2).await.unwrap(), 4);
}

#[tokio::test]
async fn a_server_serves_any_stream_of_connections_and_stops_on_its_signal() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rpc::Server::builder().add_service(common::EchoServer::new(common::EchoImpl::default()));
    let serving = tokio::spawn(server.serve_with_incoming(rpc::server::TcpIncoming::new(listener), async move {
        let _ = stopped.await;
    }));
    let client = common::EchoClient::connect(addr).await.unwrap();
    assert_eq!(client.echo("incoming".into()).await.unwrap(), "incoming");
    stop.send(()).unwrap();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), serving).await.expect("stops in time");
    ended.expect("the server task").expect("a graceful stop");
}

#[tokio::test]
async fn serving_incoming_connections_refuses_a_registry_it_could_not_advertise_in() {
    let registry = std::sync::Arc::new(rpc::registry::MemoryRegistry::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let refused = rpc::Server::builder()
        .registry(registry)
        .add_service(common::EchoServer::new(common::EchoImpl::default()))
        .serve_with_incoming(rpc::server::TcpIncoming::new(listener), std::future::pending())
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::InvalidInput);
    assert!(refused.to_string().contains("bind"), "{refused}");
}

/// Long bodies leave both ends as slices of vectored writes (not copied behind their headers;
/// on gRPC as DATA of their own after the prefix), so partial writes land in the middle of them; every byte must still arrive in its place,
/// among short calls on the same connection, on every multiplexed protocol and inside TLS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_bodies_arrive_whole_among_short_ones_on_every_protocol_and_over_tls() {
    let pki = common::tls::TestPki::new();
    let tls = rpc::tls::ServerTls::from_pem_files(pki.path("server.pem"), pki.path("server.key"))
        .allow_plaintext(true)
        .build()
        .unwrap();
    let server = TestServer::start_with(move |b| b.tls(tls)).await;
    let client_tls = || rpc::tls::ClientTls::with_ca_file(pki.path("ca.pem")).build().unwrap();
    let channels = [
        ("binary", rpc::Channel::builder().protocol(rpc::Protocol::Binary), SerializationId::MsgPack),
        ("dubbo2", rpc::Channel::builder().protocol(rpc::Protocol::Dubbo), SerializationId::Hessian2),
        ("binary over TLS", rpc::Channel::builder().tls(client_tls()), SerializationId::MsgPack),
        (
            "dubbo2 over TLS",
            rpc::Channel::builder().protocol(rpc::Protocol::Dubbo).tls(client_tls()),
            SerializationId::Hessian2,
        ),
    ];
    for (name, builder, serialization) in channels {
        let channel = builder.connect(server.addr).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        let client = common::EchoClient::new(channel).with_options(CallOptions::new().serialization(serialization));
        let calls = (0..24usize).map(|i| {
            let client = client.clone();
            // Lengths around the copy threshold and well past a socket buffer, each text
            // distinct so a byte out of place shows.
            let len = [10, 16 * 1024 - 1, 16 * 1024, 100_000, 3 << 20][i % 5] + i;
            let text: String = (0..len).map(|n| char::from(b'a' + ((n * 7 + i) % 26) as u8)).collect();
            async move { (client.echo(text.clone()).await, text) }
        });
        for (echoed, sent) in futures_util::future::join_all(calls).await {
            let echoed = echoed.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(echoed == sent, "{name}: a body of {} bytes came back altered", sent.len());
        }
    }
}
