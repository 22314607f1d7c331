//! gRPC server reflection of the service built from greeter.proto, asked by PyPI's
//! grpcio-reflection client (under both of the service's names), which then calls the
//! service from the reflected descriptors alone.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use rpc_example_proto::{GreeterServer, Greetings, FILE_DESCRIPTOR_SET};

/// The venv's Python that the README's test command makes (or `RPC_TEST_PYTHON`).
fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("RPC_TEST_PYTHON") {
        return python.into();
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/grpc-venv/bin/python");
    assert!(venv.exists(), "no Python with grpcio-reflection: run ./scripts/test.sh or set RPC_TEST_PYTHON");
    venv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpcio_reflection_describes_and_calls_the_proto_service() {
    let bound = rpc::Server::builder()
        .grpc_reflection(FILE_DESCRIPTOR_SET)
        .add_service(GreeterServer::new(Greetings::default()))
        .bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = bound.local_addr().expect("addr").to_string();
    let server = tokio::spawn(bound.serve());

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/reflection_client.py");
    let run = tokio::process::Command::new(python()).arg(&script).arg(&addr).kill_on_drop(true).output();
    let output =
        tokio::time::timeout(Duration::from_secs(60), run).await.expect("python finishes").expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "python failed: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let cases: HashMap<String, serde_json::Value> = stdout
        .lines()
        .map(|line| {
            let case: serde_json::Value = serde_json::from_str(line).expect("JSON");
            (case["case"].as_str().expect("a case").to_string(), case)
        })
        .collect();

    let services = &cases["services"]["names"];
    for name in [
        "helloworld.Greeter",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ] {
        assert!(services.as_array().expect("names").iter().any(|s| s == name), "{name} listed: {services}");
    }
    let greeter = &cases["greeter"];
    assert_eq!(greeter["file"], "greeter.proto");
    assert_eq!(greeter["methods"]["SayHello"]["input"], "helloworld.HelloRequest");
    assert_eq!(greeter["methods"]["CountLetters"]["output"], "helloworld.LetterCount");
    assert_eq!(greeter["methods"]["Chat"]["client_streaming"], true);
    assert_eq!(greeter["methods"]["Chat"]["server_streaming"], true);
    assert_eq!(cases["hello_request"]["fields"], serde_json::json!([["name", 1]]));
    assert_eq!(cases["generic_call"]["message"], "Hello reflection");
    assert_eq!(cases["unknown_symbol"]["found"], false);
    let v1 = &cases["v1"];
    assert!(v1["services"].as_array().expect("names").iter().any(|s| s == "helloworld.Greeter"), "{v1}");
    assert_eq!(v1["error_code"], 5, "NOT_FOUND for an unknown symbol: {v1}");
    assert!(v1["error_message"].as_str().expect("a message").contains("no.Such"), "{v1}");
    assert_eq!(v1["files"], 1, "greeter.proto imports nothing");
    server.abort();
}

#[tokio::test]
async fn bytes_that_are_no_descriptor_set_fail_the_bind() {
    let error = rpc::Server::builder()
        .grpc_reflection(b"\xff\xff not a descriptor set")
        .add_service(GreeterServer::new(Greetings::default()))
        .bind("127.0.0.1:0")
        .await
        .err()
        .expect("refused");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    assert!(error.to_string().contains("FileDescriptorSet"), "{error}");
}
