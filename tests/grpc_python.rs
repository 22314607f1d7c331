//! Python's grpcio (the C-core gRPC stack) calls an `rpc` provider: replies, metadata,
//! deadlines and error codes. The README's test command installs grpcio into
//! `target/grpc-venv` and points `RPC_TEST_PYTHON` at it.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::greeter::{GreeterImpl, GreeterServer, FAILURE};

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

    let cases = common::python::run_cases("greeter_client.py", &[&addr.to_string()], Duration::from_secs(60)).await;
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
