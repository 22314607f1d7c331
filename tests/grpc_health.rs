//! gRPC's health service on a provider, asked by grpcio-health-checking's client from PyPI:
//! `Check` overall, per service and of an unknown service, `Watch` following the admin
//! port's `/offline` and `/online`, and a watch that ends when the provider shuts down
//! instead of holding the shutdown up.

mod common;

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use common::TestServer;
use rpc::registry::MemoryRegistry;
use tokio::io::{AsyncBufReadExt, BufReader};

async fn provider(grace: Duration) -> (TestServer, String) {
    let registry = Arc::new(MemoryRegistry::new());
    common::admin::provider_with_admin(|builder| builder.registry(registry).shutdown_grace(grace)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpcio_health_checks_and_watches_follow_offline_and_online() {
    let (server, admin) = provider(Duration::from_secs(5)).await;
    let addr = server.addr.to_string();
    let cases =
        common::python::run_cases("health_client.py", &[&addr, &admin, "test.Echo"], Duration::from_secs(60)).await;
    assert_eq!(cases["overall"]["status"], "SERVING", "{cases:?}");
    assert_eq!(cases["hosted"]["status"], "SERVING", "{cases:?}");
    assert_eq!(cases["unknown"]["code"], "NOT_FOUND", "{cases:?}");
    assert_eq!(cases["check_offline"]["status"], "NOT_SERVING", "{cases:?}");
    assert_eq!(cases["watch"]["statuses"], serde_json::json!(["SERVING", "NOT_SERVING", "SERVING"]), "{cases:?}");
    assert_eq!(cases["watch_unknown"]["status"], "SERVICE_UNKNOWN", "{cases:?}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_watch_says_not_serving_and_ends_when_the_provider_shuts_down() {
    // A grace period far longer than the test may take: a watch holding the shutdown up
    // would show as a timeout below.
    let (mut server, _admin) = provider(Duration::from_secs(60)).await;
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/health_client.py");
    let mut watcher = tokio::process::Command::new(common::python::python())
        .arg(script)
        .args([server.addr.to_string().as_str(), "--watch-until-end"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start python");
    let mut lines = BufReader::new(watcher.stdout.take().expect("stdout")).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await.expect("a first status");
    let first: serde_json::Value = serde_json::from_str(&first.expect("read").expect("a line")).expect("JSON");
    assert_eq!(first["status"], "SERVING");

    server.begin_shutdown();
    tokio::time::timeout(Duration::from_secs(15), server.wait_stopped())
        .await
        .expect("the watch did not hold the shutdown");
    let mut rest = Vec::new();
    while let Ok(Ok(Some(line))) = tokio::time::timeout(Duration::from_secs(15), lines.next_line()).await {
        rest.push(serde_json::from_str::<serde_json::Value>(&line).expect("JSON"));
    }
    let ended = rest.iter().find(|case| case["case"] == "watch_ended").expect("the watch ended normally");
    assert_eq!(ended["statuses"], serde_json::json!(["SERVING", "NOT_SERVING"]), "{rest:?}");
    assert!(watcher.wait().await.expect("python exits").success());
}
