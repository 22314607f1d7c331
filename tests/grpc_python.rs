//! Python's grpcio (the C-core gRPC stack) calls an `rpc` provider: replies, metadata,
//! deadlines and error codes. The README's test command installs grpcio into
//! `target/grpc-venv` and points `RPC_TEST_PYTHON` at it.

mod common;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::greeter::{GreeterImpl, GreeterServer, FAILURE};

/// The Python with grpcio: `RPC_TEST_PYTHON`, else the venv the test command makes.
fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("RPC_TEST_PYTHON") {
        return python.into();
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/grpc-venv/bin/python");
    assert!(
        venv.exists(),
        "no Python with grpcio: run ./scripts/test.sh (it installs grpcio into target/grpc-venv) or set RPC_TEST_PYTHON"
    );
    venv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_grpcio_client_calls_an_rpc_provider() {
    let greeter = GreeterImpl::default();
    let bound = rpc::Server::builder()
        .max_frame_size(16 * 1024)
        .add_service(GreeterServer::new(greeter.clone()))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = bound.local_addr().unwrap();
    let _server = tokio::spawn(bound.serve());

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/greeter_client.py");
    let python = python();
    // Killed if it outlives the minute (the future owning it is dropped).
    let running = tokio::process::Command::new(python).arg(script).arg(addr.to_string()).kill_on_drop(true).output();
    let output = tokio::time::timeout(Duration::from_secs(60), running)
        .await
        .expect("the Python client finishes within a minute")
        .expect("run python");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "python failed: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));

    let cases: std::collections::HashMap<String, serde_json::Value> = stdout
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).expect("one JSON object per line");
            (value["case"].as_str().unwrap().to_string(), value)
        })
        .collect();
    let hello = &cases["hello"]["ok"];
    assert_eq!(hello["message"], "Hello python");
    assert_eq!(hello["tenant"], "pyco", "metadata arrives as an attachment");
    let remaining = hello["remaining_ms"].as_u64().unwrap();
    // grpcio rounds the grpc-timeout it sends up (5 s went out as 5009m once).
    assert!(remaining > 3_000 && remaining <= 5_100, "grpc-timeout became the deadline: {remaining}");

    let code = |case: &str| cases[case]["code"].as_str().unwrap_or("none").to_string();
    assert_eq!(code("fail"), "FAILED_PRECONDITION");
    assert_eq!(cases["fail"]["details"], FAILURE, "message survives percent-encoding");
    assert_eq!(code("deadline"), "DEADLINE_EXCEEDED");
    assert!(cases["deadline"]["elapsed_ms"].as_u64().unwrap() < 1_500);
    assert_eq!(code("unknown_method"), "UNIMPLEMENTED");
    assert_eq!(code("bad_message"), "INVALID_ARGUMENT");
    assert_eq!(code("oversized"), "RESOURCE_EXHAUSTED");
    // grpcio's own timer raises DEADLINE_EXCEEDED whatever the server does; what shows the
    // server honoured grpc-timeout is the slow handler being dropped (it sleeps 2 s, the
    // deadline is 200 ms) rather than finishing.
    let deadline = Instant::now() + Duration::from_secs(10);
    while greeter.cancelled.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the slow call was not cancelled at its deadline");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(greeter.finished.load(Ordering::SeqCst), 1, "only the good call ran to the end");
}
