//! Triple over HTTP/1.1 with JSON, Dubbo 3.3's "triple rest", on the provider's one port:
//! real `curl` calls a Hessian2 service with a JSON array, a bare value, an object of named
//! arguments; errors come back as JSON with an HTTP status; and the port still speaks every
//! other protocol.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::greetings::{Greetings, GreetingsServiceClient, GreetingsServiceServer};

async fn provider() -> SocketAddr {
    let bound = rpc::Server::builder()
        .add_service(GreetingsServiceServer::new(Greetings::default()))
        .bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = bound.local_addr().expect("addr");
    tokio::spawn(bound.serve());
    addr
}

/// `curl` with `args`; its output is the status line's code, then the body.
async fn curl(args: &[&str]) -> (u16, serde_json::Value) {
    let output = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new("curl")
            .args(["-sS", "--max-time", "20", "-w", "\n%{http_code}"])
            .args(args)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("curl finishes")
    .expect("run curl");
    assert!(output.status.success(), "curl failed: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.parse().unwrap(), serde_json::from_str(body).unwrap_or(serde_json::Value::String(body.to_string())))
}

const SERVICE: &str = "org.apache.dubbo.samples.api.GreetingsService";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_calls_any_service_with_json() {
    let addr = provider().await;
    let url = |method: &str| format!("http://{addr}/{SERVICE}/{method}");
    let json = ["-H", "content-type: application/json"];
    let post = |method: &'static str, body: &'static str| {
        let url = url(method);
        async move { curl(&[json[0], json[1], "-d", body, &url]).await }
    };
    // The documented form: a JSON array of the arguments.
    assert_eq!(post("sayHi", r#"["Dubbo"]"#).await, (200, "Hi, Dubbo".into()));
    // A bare value for a method of one argument, and an object keyed by argument names.
    assert_eq!(post("sayHi", r#""curl""#).await, (200, "Hi, curl".into()));
    assert_eq!(post("add", "[2, 3]").await, (200, 5.into()));
    assert_eq!(post("add", r#"{"b": 3, "a": 4}"#).await, (200, 7.into()));
    // A list argument is the array itself; a struct is an object.
    assert_eq!(post("echoList", r#"["a", "b"]"#).await, (200, serde_json::json!(["a", "b"])));
    let user = r#"{"name": "ann", "age": 30, "tags": [], "score": 1.5, "admin": false, "id": 9, "nickname": null}"#;
    let (code, greeted) = curl(&[json[0], json[1], "-d", user, &url("greetUser")]).await;
    assert_eq!(
        (code, greeted["age"].clone(), greeted["tags"].clone()),
        (200, 31.into(), serde_json::json!(["greeted"]))
    );
    assert_eq!(post("nothing", r#""x""#).await, (200, serde_json::Value::Null));

    // Errors: JSON with the HTTP status the code maps to.
    let (code, failed) = post("fail", r#""boom""#).await;
    assert_eq!(
        (code, failed["code"].as_str(), failed["message"].as_str()),
        (400, Some("FAILED_PRECONDITION"), Some("boom"))
    );
    assert_eq!(post("nope", "[]").await.0, 404, "unknown method");
    assert_eq!(post("add", "[1]").await.0, 400, "wrong argument count");
    assert_eq!(post("add", "[1, 2").await.0, 400, "not JSON");
    assert_eq!(post("add", r#"["x", "y"]"#).await.0, 400, "wrong types");
    let missing = format!("http://{addr}/no.Such/thing");
    assert_eq!(curl(&[json[0], json[1], "-d", "[]", &missing]).await.0, 404);
    let (code, _) = curl(&["-H", "content-type: text/plain", "-d", "[1,2]", &url("add")]).await;
    assert_eq!(code, 415);
    // The deadline header bounds the call.
    let (code, late) = curl(&[json[0], json[1], "-H", "tri-service-timeout: 100", "-d", "[2000]", &url("slow")]).await;
    assert_eq!((code, late["code"].as_str()), (504, Some("DEADLINE_EXCEEDED")));
    // Version and group headers pick the service; a version not hosted is not found.
    let (code, _) = curl(&[json[0], json[1], "-H", "tri-service-version: 9.9.9", "-d", r#""x""#, &url("sayHi")]).await;
    assert_eq!(code, 404);
    let (code, _) = curl(&[json[0], json[1], "-H", "tri-service-version: 1.0.0", "-d", r#""x""#, &url("sayHi")]).await;
    assert_eq!(code, 200);

    // The same port speaks the binary protocol to our clients.
    let channel = rpc::Channel::connect(addr).await.unwrap();
    assert_eq!(GreetingsServiceClient::new(channel).add(1, 1).await.unwrap(), 2);
}

#[tokio::test]
async fn an_oversized_rest_body_is_refused_and_the_connection_kept() {
    let bound = rpc::Server::builder()
        .max_frame_size(1024)
        .add_service(GreetingsServiceServer::new(Greetings::default()))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = bound.local_addr().unwrap();
    tokio::spawn(bound.serve());
    let big = format!("\"{}\"", "x".repeat(4096));
    let url = format!("http://{addr}/{SERVICE}/sayHi");
    let (code, refused) = curl(&["-H", "content-type: application/json", "-d", &big, &url]).await;
    assert_eq!((code, refused["code"].as_str()), (429, Some("RESOURCE_EXHAUSTED")));
    assert_eq!(curl(&["-H", "content-type: application/json", "-d", r#""ok""#, &url]).await, (200, "Hi, ok".into()));
}

/// A caller's own HTTP headers reach the handler as attachments, as on HTTP/2; HTTP's and
/// Triple's own headers do not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_headers_are_attachments() {
    let bound = rpc::Server::builder()
        .add_service(common::EchoServer::new(common::EchoImpl::default()))
        .bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = bound.local_addr().expect("addr");
    tokio::spawn(bound.serve());
    let url = format!("http://{addr}/test.Echo/attachment");
    let call = |key: &'static str| {
        let url = url.clone();
        async move {
            let body = format!("[\"{key}\"]");
            let headers = [
                "content-type: application/json",
                "tri-service-version: 1.0.0",
                "Trace-Id: abc-123",
                "tri-consumer-appname: shop",
            ];
            let mut args = Vec::new();
            for header in headers {
                args.extend(["-H", header]);
            }
            args.extend(["-d", &body, &url]);
            curl(&args).await
        }
    };
    assert_eq!(call("trace-id").await, (200, serde_json::json!(["abc-123", false])));
    assert_eq!(call("remote.application").await, (200, serde_json::json!(["shop", false])));
    assert_eq!(call("user-agent").await, (200, serde_json::json!([null, false])));
    assert_eq!(call("tri-service-version").await, (200, serde_json::json!([null, false])));
}
