//! gRPC over HTTP/2, against real peers: a tonic client calling an `rpc` provider, an `rpc`
//! client calling a tonic server, raw HTTP/2 requests for the edges of the wire format, and
//! (in `grpc_python.rs`) Python's grpcio.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::greeter::{GreeterClient, GreeterImpl, GreeterServer, HelloReply, HelloRequest, FAILURE};
use common::h2::{framed, raw_call};
use common::{TestServer, User};
use rpc::{CallOptions, Code, Protocol, SerializationId, Status};
use tonic::codegen::http;
use tonic_prost::ProstCodec;

const SAY_HELLO: &str = "/helloworld.Greeter/SayHello";

/// An `rpc` server hosting the greeter (and nothing else), with frames up to `max_frame`.
async fn greeter_provider(max_frame: usize) -> (SocketAddr, GreeterImpl, tokio::task::JoinHandle<std::io::Result<()>>) {
    let greeter = GreeterImpl::default();
    let bound = rpc::Server::builder()
        .max_frame_size(max_frame)
        .add_service(GreeterServer::new(greeter.clone()))
        .bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = bound.local_addr().unwrap();
    (addr, greeter, tokio::spawn(bound.serve()))
}

async fn tonic_client(addr: SocketAddr) -> tonic::client::Grpc<tonic::transport::Channel> {
    let channel = tonic::transport::Endpoint::new(format!("http://{addr}")).unwrap().connect().await.unwrap();
    tonic::client::Grpc::new(channel)
}

/// One unary call from tonic, with a path, metadata and a timeout of our choosing.
async fn tonic_call<M: prost::Message + Default + Send + 'static>(
    grpc: &mut tonic::client::Grpc<tonic::transport::Channel>,
    path: &'static str,
    message: M,
    tenant: Option<&str>,
    timeout: Option<Duration>,
) -> Result<HelloReply, tonic::Status> {
    grpc.ready().await.unwrap();
    let mut request = tonic::Request::new(message);
    if let Some(tenant) = tenant {
        request.metadata_mut().insert("tenant", tenant.parse().unwrap());
    }
    if let Some(timeout) = timeout {
        request.set_timeout(timeout);
    }
    let codec = ProstCodec::<M, HelloReply>::default();
    grpc.unary(request, http::uri::PathAndQuery::from_static(path), codec).await.map(tonic::Response::into_inner)
}

fn hello(name: &str, sleep_ms: u32) -> HelloRequest {
    HelloRequest { name: name.into(), sleep_ms }
}

#[tokio::test]
async fn a_tonic_client_calls_an_rpc_provider() {
    let (addr, greeter, _server) = greeter_provider(rpc_codec_default_max()).await;
    let mut grpc = tonic_client(addr).await;
    let reply = tonic_call(&mut grpc, SAY_HELLO, hello("ada", 0), Some("acme"), Some(Duration::from_secs(5)))
        .await
        .expect("tonic call succeeds");
    assert_eq!(reply.message, "Hello ada");
    assert_eq!(reply.tenant, "acme", "metadata arrives as an attachment");
    assert!(reply.remaining_ms > 4_000 && reply.remaining_ms <= 5_000, "grpc-timeout became the deadline: {reply:?}");
    // Long messages both ways: ours goes out as DATA of its own after the prefix, in frames
    // as large as tonic accepts.
    let long: String = (0..300_000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    let reply = tonic_call(&mut grpc, SAY_HELLO, hello(&long, 0), None, None).await.expect("a long call");
    assert!(reply.message == format!("Hello {long}"), "a long reply came back altered");

    // Many calls multiplexed on tonic's one connection.
    let calls = (0..200).map(|i| {
        let mut grpc = grpc.clone();
        async move { tonic_call(&mut grpc, SAY_HELLO, hello(&format!("n{i}"), 1), None, None).await }
    });
    let replies = futures_util::future::join_all(calls).await;
    for (i, reply) in replies.into_iter().enumerate() {
        assert_eq!(reply.unwrap().message, format!("Hello n{i}"));
    }
    assert_eq!(greeter.finished.load(Ordering::SeqCst), 202);
}

fn rpc_codec_default_max() -> usize {
    rpc::codec::DEFAULT_MAX_FRAME_SIZE
}

#[tokio::test]
async fn grpc_errors_carry_precise_codes() {
    let (addr, greeter, _server) = greeter_provider(16 * 1024).await;
    let mut grpc = tonic_client(addr).await;

    let failed = tonic_call(&mut grpc, SAY_HELLO, hello("fail", 0), None, None).await.unwrap_err();
    assert_eq!(failed.code(), tonic::Code::FailedPrecondition);
    assert_eq!(failed.message(), FAILURE, "the message survives percent-encoding");

    let unknown_method =
        tonic_call(&mut grpc, "/helloworld.Greeter/SayGoodbye", hello("x", 0), None, None).await.unwrap_err();
    assert_eq!(unknown_method.code(), tonic::Code::Unimplemented, "{unknown_method:?}");
    assert!(unknown_method.message().contains("SayGoodbye"), "{unknown_method:?}");

    let unknown_service =
        tonic_call(&mut grpc, "/helloworld.Nobody/SayHello", hello("x", 0), None, None).await.unwrap_err();
    assert_eq!(unknown_service.code(), tonic::Code::Unimplemented, "{unknown_service:?}");
    assert!(unknown_service.message().contains("helloworld.Nobody"), "{unknown_service:?}");

    // Field 1 as a varint where a string is expected: not a HelloRequest.
    #[derive(Clone, PartialEq, prost::Message)]
    struct NotHello {
        #[prost(uint64, tag = "1")]
        name: u64,
    }
    let bad = tonic_call(&mut grpc, SAY_HELLO, NotHello { name: 7 }, None, None).await.unwrap_err();
    assert_eq!(bad.code(), tonic::Code::InvalidArgument, "{bad:?}");

    let oversized = tonic_call(&mut grpc, SAY_HELLO, hello(&"x".repeat(64 * 1024), 0), None, None).await.unwrap_err();
    assert_eq!(oversized.code(), tonic::Code::ResourceExhausted, "{oversized:?}");

    let started = Instant::now();
    let late = tonic_call(&mut grpc, SAY_HELLO, hello("slow", 1_000), None, Some(Duration::from_millis(100)))
        .await
        .unwrap_err();
    // tonic runs a timer of its own for the same deadline, so its `Cancelled: Timeout expired`
    // may win the race against our DEADLINE_EXCEEDED (the raw test sees ours alone).
    assert!(matches!(late.code(), tonic::Code::DeadlineExceeded | tonic::Code::Cancelled), "{late:?}");
    assert!(started.elapsed() < Duration::from_millis(900));

    // The connection still serves, and the cancelled handler never finished.
    let reply = tonic_call(&mut grpc, SAY_HELLO, hello("again", 0), None, None).await.unwrap();
    assert_eq!(reply.message, "Hello again");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(greeter.finished.load(Ordering::SeqCst), 1, "only the last call ran to the end");
}

#[tokio::test]
async fn the_wire_format_edges_follow_grpc() {
    let (addr, greeter, _server) = greeter_provider(rpc_codec_default_max()).await;
    let grpc = [("content-type", "application/grpc"), ("te", "trailers")];
    let request = prost::Message::encode_to_vec(&hello("ada", 0));

    // An extra empty message before end-of-stream is tolerated.
    let mut body = framed(&request);
    body.extend_from_slice(&framed(b""));
    let reply = raw_call(addr, SAY_HELLO, &grpc, body.into()).await;
    assert_eq!(reply.status, http::StatusCode::OK);
    assert_eq!(reply.grpc_status(), Some("0"));
    let message: HelloReply = prost::Message::decode(&reply.body[5..]).unwrap();
    assert_eq!(message.message, "Hello ada");

    // The server honours grpc-timeout itself (this client enforces nothing).
    let slow = prost::Message::encode_to_vec(&hello("slow", 2_000));
    let started = Instant::now();
    let timeout = [("content-type", "application/grpc"), ("te", "trailers"), ("grpc-timeout", "100m")];
    let reply = raw_call(addr, SAY_HELLO, &timeout, framed(&slow).into()).await;
    assert_eq!(reply.grpc_status(), Some("4"), "DEADLINE_EXCEEDED");
    assert!(started.elapsed() < Duration::from_millis(1_500));

    // A deadline that has passed on arrival (0 ns, 1 ns) is refused, not run.
    let finished = greeter.finished.load(Ordering::SeqCst);
    for expired in ["0n", "1n"] {
        let headers = [("content-type", "application/grpc"), ("te", "trailers"), ("grpc-timeout", expired)];
        let reply = raw_call(addr, SAY_HELLO, &headers, framed(&request).into()).await;
        assert_eq!(reply.grpc_status(), Some("4"), "grpc-timeout {expired}: DEADLINE_EXCEEDED");
    }
    assert_eq!(greeter.finished.load(Ordering::SeqCst), finished, "neither call ran");

    // A malformed timeout, a truncated message, one flagged compressed without a
    // grpc-encoding (INTERNAL, as gRPC's spec and grpc-go have it), two messages.
    let bad_timeout = [("content-type", "application/grpc"), ("grpc-timeout", "soon")];
    assert_eq!(raw_call(addr, SAY_HELLO, &bad_timeout, framed(&request).into()).await.grpc_status(), Some("3"));
    let truncated = framed(&request)[..6].to_vec();
    assert_eq!(raw_call(addr, SAY_HELLO, &grpc, truncated.into()).await.grpc_status(), Some("3"));
    let mut compressed = framed(&request);
    compressed[0] = 1;
    assert_eq!(raw_call(addr, SAY_HELLO, &grpc, compressed.into()).await.grpc_status(), Some("13"));
    let mut two = framed(&request);
    two.extend_from_slice(&framed(&request));
    assert_eq!(raw_call(addr, SAY_HELLO, &grpc, two.into()).await.grpc_status(), Some("3"));

    // Content types: not gRPC → HTTP 415; a serialization we lack → UNIMPLEMENTED.
    let json = [("content-type", "application/json")];
    assert_eq!(raw_call(addr, SAY_HELLO, &json, framed(&request).into()).await.status, 415);
    let thrift = [("content-type", "application/grpc+thrift")];
    assert_eq!(raw_call(addr, SAY_HELLO, &thrift, framed(&request).into()).await.grpc_status(), Some("12"));
    assert_eq!(raw_call(addr, "/no-method", &grpc, framed(&request).into()).await.grpc_status(), Some("12"));
}

#[tokio::test]
async fn the_same_port_serves_both_protocols() {
    let server = TestServer::start().await;
    let binary = server.client().await;
    let over_http2 = common::EchoClient::new(
        rpc::Channel::builder().protocol(Protocol::Grpc).connect(server.addr).await.expect("HTTP/2 connect"),
    );
    for serialization in [SerializationId::MsgPack, SerializationId::Json, SerializationId::Protobuf] {
        let client = over_http2.with_options(CallOptions::new().serialization(serialization));
        let user = User { id: 7, name: "ada".into(), roles: vec!["admin".into()] };
        let back = client.user(user.clone()).await.unwrap();
        assert_eq!((back.id, &back.roles[..]), (7, &["admin".to_string(), "seen".to_string()][..]), "{serialization}");
    }
    for serialization in [SerializationId::MsgPack, SerializationId::Json] {
        let client = over_http2.with_options(CallOptions::new().serialization(serialization).attachment("k", "v"));
        assert_eq!(client.add(2, 3).await.unwrap(), 5, "{serialization}");
        assert_eq!(client.attachment("k".into()).await.unwrap(), (Some("v".to_string()), false));
        assert_eq!(binary.add(2, 3).await.unwrap(), 5);
    }
    let versioned = over_http2.with_options(CallOptions::new().version("9.9.9"));
    assert_eq!(versioned.add(1, 1).await.unwrap_err().code(), Code::Unimplemented, "no such version");
    let grouped = over_http2.with_options(CallOptions::new().group("canary"));
    let error = grouped.add(1, 1).await.unwrap_err();
    assert_eq!(error.code(), Code::Unimplemented, "no such group");
    assert!(error.message().contains("group canary"), "tri-service-group arrives as the group: {error}");
    let timed = over_http2.with_options(CallOptions::new().timeout(Duration::from_millis(100)));
    assert_eq!(timed.sleep_ms(2_000).await.unwrap_err().code(), Code::DeadlineExceeded);
    let failed = over_http2.fail("boom".into()).await.unwrap_err();
    assert_eq!((failed.code(), failed.message()), (Code::FailedPrecondition, "boom"));
}

/// helloworld.Greeter as tonic serves it: what tonic-build generates, written out (no protoc).
mod tonic_greeter {
    use std::convert::Infallible;
    use std::task::{Context, Poll};

    use tonic::body::Body;
    use tonic::codegen::http;
    use tonic_prost::ProstCodec;

    use super::{HelloReply, HelloRequest, SAY_HELLO};

    #[derive(Clone)]
    pub struct Greeter(pub &'static str);

    impl tonic::server::NamedService for Greeter {
        const NAME: &'static str = "helloworld.Greeter";
    }

    impl tower::Service<http::Request<Body>> for Greeter {
        type Response = http::Response<Body>;
        type Error = Infallible;
        type Future = tonic::codegen::BoxFuture<Self::Response, Infallible>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: http::Request<Body>) -> Self::Future {
            let who = self.0;
            Box::pin(async move {
                if request.uri().path() != SAY_HELLO {
                    return Ok(tonic::Status::unimplemented("no such method").into_http());
                }
                let say_hello = tower::service_fn(move |request: tonic::Request<HelloRequest>| async move {
                    let tenant =
                        request.metadata().get("tenant").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                    let has_timeout = request.metadata().get("grpc-timeout").is_some();
                    let request = request.into_inner();
                    if request.name == "fail" {
                        return Err(tonic::Status::permission_denied("tonic says no"));
                    }
                    let message = format!("{who}: Hello {}", request.name);
                    Ok(tonic::Response::new(HelloReply { message, tenant, remaining_ms: u64::from(has_timeout) }))
                });
                let mut grpc = tonic::server::Grpc::new(ProstCodec::<HelloReply, HelloRequest>::default());
                Ok(grpc.unary(say_hello, request).await)
            })
        }
    }

    pub async fn serve(who: &'static str) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let incoming = tonic::transport::server::TcpIncoming::from(listener);
        tokio::spawn(tonic::transport::Server::builder().add_service(Greeter(who)).serve_with_incoming(incoming));
        addr
    }
}

#[tokio::test]
async fn an_rpc_client_calls_a_tonic_server() {
    let addr = tonic_greeter::serve("tonic").await;
    let channel = rpc::Channel::builder().protocol(Protocol::Grpc).connect(addr).await.expect("connect to tonic");
    let options = CallOptions::new()
        .serialization(SerializationId::Protobuf)
        .attachment("tenant", "acme")
        .timeout(Duration::from_secs(2));
    let client = GreeterClient::new(channel).with_options(options);
    let reply = client.say_hello(hello("ada", 0)).await.expect("tonic answers");
    assert_eq!(reply.message, "tonic: Hello ada");
    assert_eq!(reply.tenant, "acme", "attachments arrive as metadata");
    assert_eq!(reply.remaining_ms, 1, "the deadline arrives as grpc-timeout");
    let long: String = (0..300_000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    let reply = client.say_hello(hello(&long, 0)).await.expect("a long call");
    assert!(reply.message == format!("tonic: Hello {long}"), "a long reply came back altered");
    let denied: Status = client.say_hello(hello("fail", 0)).await.unwrap_err();
    assert_eq!((denied.code(), denied.message()), (Code::PermissionDenied, "tonic says no"));
}

#[tokio::test]
async fn a_cluster_channel_balances_over_tonic_servers() {
    let (a, b) = (tonic_greeter::serve("a").await, tonic_greeter::serve("b").await);
    let channel = rpc::Channel::builder()
        .protocol(Protocol::Grpc)
        .endpoints([a.to_string(), b.to_string()])
        .load_balance(rpc::cluster::Balance::RoundRobin)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let client = GreeterClient::new(channel).with_options(CallOptions::new().serialization(SerializationId::Protobuf));
    let mut from_a = 0;
    for i in 0..40 {
        let reply = client.say_hello(hello(&i.to_string(), 0)).await.unwrap();
        from_a += usize::from(reply.message.starts_with("a:"));
    }
    assert_eq!(from_a, 20, "round-robin over two tonic servers");
}

#[tokio::test]
async fn a_cluster_channel_speaks_the_protocol_each_provider_registered() {
    use rpc::registry::{Instance, MemoryRegistry, Registry};
    // One plain gRPC server (tonic, registered as `grpc`) and one rpc provider (registered
    // as `rpc`): a channel that names no protocol reaches both, each in its own.
    let tonic = tonic_greeter::serve("tonic").await;
    let (ours, _greeter, _server) = greeter_provider(rpc_codec_default_max()).await;
    let registry = std::sync::Arc::new(MemoryRegistry::new());
    let mut grpc_instance = Instance::new("helloworld.Greeter", tonic.to_string());
    grpc_instance.protocol = "grpc".into();
    registry.register(grpc_instance).await.unwrap();
    registry.register(Instance::new("helloworld.Greeter", ours.to_string())).await.unwrap();
    let channel = rpc::Channel::builder()
        .registry(registry, "helloworld.Greeter")
        .load_balance(rpc::cluster::Balance::RoundRobin)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    assert!(channel.directory().unwrap().wait_for(2, Duration::from_secs(5)).await);
    let client = GreeterClient::new(channel).with_options(CallOptions::new().serialization(SerializationId::Protobuf));
    let mut replies = std::collections::HashSet::new();
    for _ in 0..4 {
        replies.insert(client.say_hello(hello("ada", 0)).await.expect("both providers answer").message);
    }
    let expected: std::collections::HashSet<String> = ["tonic: Hello ada", "Hello ada"].map(String::from).into();
    assert_eq!(replies, expected, "the tonic server over gRPC, ours over the binary protocol");
}
