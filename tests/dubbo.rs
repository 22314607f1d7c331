//! Dubbo's own protocol, dubbo2 with Hessian2, against a real peer: PyPI's
//! `dubbo-ssl-python` 0.9.6 (a dubbo2 + Hessian2 client) calls an `rpc` provider, and our
//! consumer (`Protocol::Dubbo`) calls it too. Bad input on the dubbo path gets Dubbo's status
//! codes or a clean close, and the provider keeps serving everyone else.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::greetings::{Greetings, GreetingsServiceClient, GreetingsServiceServer, User};
use rpc::codec::dubbo::{status, DubboHeader, DubboRequest, FLAG_EVENT, FLAG_REQUEST, FLAG_TWOWAY};
use rpc::{Code, Protocol};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// A provider of the greetings on a free port; it stops when the sender is used or dropped.
async fn provider(
    greetings: Greetings,
) -> (SocketAddr, oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>) {
    let bound = rpc::Server::builder()
        .add_service(GreetingsServiceServer::new(greetings))
        .bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = bound.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(bound.serve_with_shutdown(async move {
        let _ = stopped.await;
    }));
    (addr, stop, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_dubbo2_client_calls_an_rpc_provider() {
    let greetings = Greetings::default();
    let (addr, _handle, _server) = provider(greetings.clone()).await;
    let cases =
        common::python::run_cases("dubbo2_client.py", &["direct", &addr.to_string()], Duration::from_secs(60)).await;
    let ok = |case: &str| cases[case].get("ok").cloned().unwrap_or_else(|| panic!("{case}: {}", cases[case]));
    let error =
        |case: &str| cases[case]["error"].as_str().unwrap_or_else(|| panic!("{case}: {}", cases[case])).to_string();
    assert_eq!(ok("hello"), "Hi, python");
    assert_eq!(ok("unicode"), "Hi, héllo 世界");
    assert_eq!(ok("add"), 5);
    assert_eq!(ok("long"), (1i64 << 40) + 1);
    assert_eq!(ok("double"), 2.25);
    assert_eq!(ok("bool"), true);
    assert_eq!(ok("list"), serde_json::json!(["a", "b", "c"]));
    let user = ok("object");
    assert_eq!(user["name"], "ann");
    assert_eq!(user["age"], 31);
    assert_eq!(user["tags"], serde_json::json!(["x", "y", "greeted"]));
    assert_eq!(user["id"], 1i64 << 40);
    assert_eq!(user["admin"], true);
    assert_eq!(user["score"], 1.5);
    assert_eq!(ok("null"), serde_json::Value::Null);
    let exception = error("exception");
    assert!(exception.contains("java.lang.RuntimeException: boom"), "{exception}");
    assert!(error("unknown_method").contains("Service not found:org.apache.dubbo.samples.api.GreetingsService, nope"));
    assert!(error("wrong_arity").contains("Service not found"), "{}", error("wrong_arity"));
    assert!(error("unknown_service").contains("Not found exported service"), "{}", error("unknown_service"));
    assert!(error("deadline").contains("deadline"), "{}", error("deadline"));
    assert_eq!(cases["client_timeout"]["type"], "DubboRequestTimeoutException");
    assert_eq!(ok("after"), "Hi, again", "the connection still serves after every failure");
    // The 3 s call was cancelled at its 200 ms `timeout` attachment; the 1.5 s one ran on
    // after the client gave up (dubbo2 cannot cancel), so one finished, one was cancelled.
    let deadline = Instant::now() + Duration::from_secs(10);
    while greetings.cancelled.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the call past its `timeout` attachment was not cancelled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Our consumer over dubbo2, against our provider: every type, errors with their codes.
#[tokio::test]
async fn an_rpc_consumer_speaks_dubbo2() {
    let (addr, _handle, _server) = provider(Greetings::default()).await;
    let channel = rpc::Channel::builder().protocol(Protocol::Dubbo).connect(addr).await.expect("connect over dubbo2");
    let client = GreetingsServiceClient::new(channel);
    assert_eq!(client.say_hi("rust \u{1F600}".into()).await.unwrap(), "Hi, rust \u{1F600}");
    assert_eq!(client.add(40, 2).await.unwrap(), 42);
    assert_eq!(client.echo_long(i64::MIN).await.unwrap(), i64::MIN);
    assert_eq!(client.echo_double(0.1).await.unwrap(), 0.1);
    assert_eq!(client.nothing("x".into()).await.unwrap(), None);
    let user =
        User { name: "bo".into(), age: 1, tags: vec![], score: -0.5, admin: false, id: 7, nickname: Some("b".into()) };
    assert_eq!(client.greet_user(user.clone()).await.unwrap().tags, ["greeted"]);
    let failed = client.fail("nope".into()).await.unwrap_err();
    assert_eq!((failed.code(), failed.message()), (Code::FailedPrecondition, "nope"), "the code travels back");
    let options =
        rpc::CallOptions::new().serialization(rpc::SerializationId::Hessian2).timeout(Duration::from_millis(100));
    let late = client.with_options(options).slow(2_000).await.unwrap_err();
    assert_eq!(late.code(), Code::DeadlineExceeded);
    // An overflow is the handler's error, not a transport one.
    assert_eq!(client.add(i32::MAX, 1).await.unwrap_err().code(), Code::OutOfRange);
}

/// Hessian2 over Triple goes in Java's wrapper (as a Java consumer sends it); our provider
/// unwraps it for a service not declared protobuf.
#[tokio::test]
async fn an_rpc_consumer_speaks_triple_in_javas_wrapper() {
    let (addr, _handle, _server) = provider(Greetings::default()).await;
    let channel = rpc::Channel::builder().protocol(Protocol::Grpc).connect(addr).await.expect("connect over HTTP/2");
    let client = GreetingsServiceClient::new(channel);
    assert_eq!(client.say_hi("triple".into()).await.unwrap(), "Hi, triple");
    assert_eq!(client.add(20, 22).await.unwrap(), 42);
    assert_eq!(client.nothing("x".into()).await.unwrap(), None);
    let user =
        User { name: "w".into(), age: 2, tags: vec!["a".into()], score: 9.5, admin: true, id: 1, nickname: None };
    assert_eq!(client.greet_user(user).await.unwrap().tags, ["a", "greeted"]);
    // A failure comes back as a Java business exception, and its code with it.
    let failed = client.fail("wrapped".into()).await.unwrap_err();
    assert_eq!((failed.code(), failed.message()), (Code::FailedPrecondition, "wrapped"));
}

/// A Protobuf field of wire type 2 at the front of `message`: its tag, contents and the rest.
fn length_delimited(message: &[u8]) -> (u8, &[u8], &[u8]) {
    let (tag, len) = (message[0], message[1] as usize);
    (tag, &message[2..2 + len], &message[2 + len..])
}

/// What a Java Triple consumer sees of a business error: `tri-exception-code: 3` in the
/// headers, `grpc-status: 0`, and the response wrapper holding a serialized
/// `java.lang.RuntimeException` under the method's declared return type.
#[tokio::test]
async fn a_wrapped_call_that_fails_is_answered_with_javas_business_exception() {
    let (addr, _handle, _server) = provider(Greetings::default()).await;
    // TripleRequestWrapper { serializeType: "hessian4", args: ["java"], argTypes: ["java.lang.String"] }.
    let mut wrapper = vec![0x0a, 8];
    wrapper.extend_from_slice(b"hessian4");
    wrapper.extend_from_slice(&[0x12, 5, 0x04]);
    wrapper.extend_from_slice(b"java");
    wrapper.extend_from_slice(&[0x1a, 16]);
    wrapper.extend_from_slice(b"java.lang.String");
    let headers = [("content-type", "application/grpc+proto"), ("te", "trailers"), ("tri-service-version", "1.0.0")];
    let path = "/org.apache.dubbo.samples.api.GreetingsService/fail";
    let reply = common::h2::raw_call(addr, path, &headers, common::h2::framed(&wrapper).into()).await;
    assert_eq!(reply.status, http::StatusCode::OK);
    assert_eq!(reply.headers.get("tri-exception-code").map(|v| v.to_str().unwrap()), Some("3"));
    assert_eq!(reply.grpc_status(), Some("0"));
    let (tag, serialize_type, rest) = length_delimited(&reply.body[5..]);
    assert_eq!((tag, serialize_type), (0x0a, &b"hessian4"[..]));
    let (tag, data, rest) = length_delimited(rest);
    assert_eq!(tag, 0x12);
    let exception = rpc::codec::dubbo::decode_exception(data).expect("a Hessian exception");
    assert_eq!((exception.class.as_str(), exception.message.as_deref()), ("java.lang.RuntimeException", Some("java")));
    let (tag, return_type, rest) = length_delimited(rest);
    assert_eq!((tag, return_type, rest), (0x1a, &b"java.lang.String"[..], &b""[..]));
}

async fn send(stream: &mut TcpStream, header: DubboHeader, body: &[u8]) {
    let header = DubboHeader { body_len: body.len() as u32, ..header };
    stream.write_all(&header.to_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
}

async fn reply(stream: &mut TcpStream) -> (DubboHeader, Vec<u8>) {
    let mut head = [0; 16];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut head)).await.expect("a reply").unwrap();
    let header = DubboHeader::parse(&head).unwrap();
    let mut body = vec![0; header.body_len as usize];
    stream.read_exact(&mut body).await.unwrap();
    (header, body)
}

fn call_body(method: &str, types: &str, args: &[u8]) -> Vec<u8> {
    let request = DubboRequest {
        dubbo_version: "2.0.2".into(),
        path: "org.apache.dubbo.samples.api.GreetingsService".into(),
        version: Some("1.0.0".into()),
        method: method.into(),
        parameter_types: types.into(),
        arguments: bytes::Bytes::copy_from_slice(args),
        attachments: vec![],
    };
    let mut body = bytes::BytesMut::new();
    request.encode(&mut body);
    body.to_vec()
}

const CALL: DubboHeader = DubboHeader { flags: FLAG_REQUEST | FLAG_TWOWAY | 2, status: 0, id: 1, body_len: 0 };

#[tokio::test]
async fn bad_dubbo2_input_gets_dubbos_status_codes_and_the_provider_serves_on() {
    let (addr, _handle, _server) = provider(Greetings::default()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();

    // A heartbeat is answered in kind.
    send(&mut stream, DubboHeader { flags: FLAG_REQUEST | FLAG_TWOWAY | FLAG_EVENT | 2, id: 9, ..CALL }, b"N").await;
    let (header, body) = reply(&mut stream).await;
    assert_eq!((header.flags, header.status, header.id, body.as_slice()), (FLAG_EVENT | 2, 20, 9, &b"N"[..]));

    // A 2 GiB body claimed: refused from its header, status 40, nothing buffered.
    let huge = DubboHeader { id: 2, ..CALL }.to_bytes();
    let mut claimed = huge;
    claimed[12..].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
    stream.write_all(&claimed).await.unwrap();
    let (header, body) = reply(&mut stream).await;
    assert_eq!((header.id, header.status), (2, status::BAD_REQUEST));
    assert!(String::from_utf8_lossy(&body).contains("Data length too large: 2147483647"));
    drop(stream);

    let mut stream = TcpStream::connect(addr).await.unwrap();
    // Garbage for a body, an unknown method, the wrong argument count, nesting 100,000 deep,
    // a reference to an undefined value, a string longer than the frame.
    let cases: Vec<(i64, Vec<u8>, u8, &str)> = vec![
        (3, vec![0xff, 0x00, 0x13], status::BAD_REQUEST, "Fail to decode request"),
        (4, call_body("nope", "Ljava/lang/String;", b"\x01x"), status::BAD_REQUEST, "Service not found"),
        (5, call_body("add", "I", b"\x91"), status::BAD_REQUEST, "Service not found"),
        (6, call_body("echoList", "Ljava/util/List;", &vec![0x79; 100_000]), status::BAD_REQUEST, "nested deeper"),
        (7, call_body("echoList", "Ljava/util/List;", b"\x51\x95"), status::BAD_REQUEST, "not yet defined"),
        (8, call_body("sayHi", "Ljava/lang/String;", b"\x53\xff\xff\x61"), status::BAD_REQUEST, "Fail to decode"),
    ];
    for (id, body, code, text) in cases {
        send(&mut stream, DubboHeader { id, ..CALL }, &body).await;
        let (header, reply_body) = reply(&mut stream).await;
        let message = String::from_utf8_lossy(&reply_body).to_string();
        assert_eq!((header.id, header.status), (id, code), "case {id}: {message}");
        assert!(message.contains(text), "case {id}: {message}");
    }
    // Garbage after a good magic: the stream cannot be resynchronised and is closed.
    stream.write_all(&[0xda, 0xbb, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3, 1, 2, 3]).await.unwrap();
    stream
        .write_all(&[0xda, 0x00, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99])
        .await
        .unwrap();
    let (header, _) = reply(&mut stream).await;
    assert_eq!(header.status, status::BAD_REQUEST, "the truncated body did not decode");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "closed after a bad magic");

    // Everyone else is still served.
    let channel = rpc::Channel::builder().protocol(Protocol::Dubbo).connect(addr).await.unwrap();
    assert_eq!(GreetingsServiceClient::new(channel).add(1, 2).await.unwrap(), 3);
}

#[tokio::test]
async fn shutdown_sends_dubbos_readonly_event() {
    let (addr, handle, server) = provider(Greetings::default()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    send(&mut stream, DubboHeader { flags: FLAG_REQUEST | FLAG_TWOWAY | FLAG_EVENT | 2, ..CALL }, b"N").await;
    reply(&mut stream).await;
    handle.send(()).unwrap();
    let (header, body) = reply(&mut stream).await;
    assert_eq!(header.flags, FLAG_REQUEST | FLAG_EVENT | 2, "a oneway event request");
    assert_eq!(body, b"\x01R");
    drop(stream);
    tokio::time::timeout(Duration::from_secs(10), server).await.expect("stops").unwrap().unwrap();
}

/// A separate dubbo2 port, as Dubbo's `dubbo.protocol.port`: a real dubbo2 client (Python)
/// calls it there, and the `dubbo://` registration names it while the others name the main port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_separate_dubbo_port_serves_dubbo2_and_is_registered() {
    let registry: std::sync::Arc<dyn rpc::registry::Registry> =
        std::sync::Arc::new(rpc::registry::MemoryRegistry::new());
    let bound = rpc::Server::builder()
        .add_service(GreetingsServiceServer::new(Greetings::default()))
        .registry(registry.clone())
        .dubbo_port(0)
        .bind("127.0.0.1:0")
        .await
        .expect("bind");
    let (main, dubbo) = (bound.local_addr().unwrap(), bound.dubbo_addr().expect("a dubbo port"));
    assert_ne!(main.port(), dubbo.port());
    let (_stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(bound.serve_with_shutdown(async move {
        let _ = stopped.await;
    }));

    let cases =
        common::python::run_cases("dubbo2_client.py", &["direct", &dubbo.to_string()], Duration::from_secs(60)).await;
    assert_eq!(cases["hello"]["ok"], "Hi, python", "{}", cases["hello"]);

    let mut subscription = registry.subscribe(common::greetings::GREETINGS_SERVICE_DESCRIPTOR.name).await.unwrap();
    let set = tokio::time::timeout(Duration::from_secs(10), futures_util::StreamExt::next(&mut subscription))
        .await
        .expect("a set")
        .expect("a set");
    let mut registered: Vec<(String, String)> =
        set.instances.iter().map(|i| (i.protocol.clone(), i.address.clone())).collect();
    registered.sort();
    assert_eq!(
        registered,
        [
            ("dubbo".to_string(), dubbo.to_string()),
            ("rpc".to_string(), main.to_string()),
            ("tri".to_string(), main.to_string())
        ]
    );
}
