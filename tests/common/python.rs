//! Real Python peers: the interpreter of the venv the test command fills from PyPI (grpcio,
//! apache-dubbo, dubbo-ssl-python, python-hessian), and a runner for the scripts under
//! `tests/python/` that print one JSON object per case.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// The venv's Python: `RPC_TEST_PYTHON`, else `target/grpc-venv`, which the test command makes.
pub fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("RPC_TEST_PYTHON") {
        return python.into();
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/grpc-venv/bin/python");
    assert!(
        venv.exists(),
        "no Python with the interop packages: run ./scripts/test.sh (it makes target/grpc-venv) or set RPC_TEST_PYTHON"
    );
    venv
}

/// Runs `tests/python/{script}` with `args` (killed after `limit`), and returns its cases by
/// their `case` field.
pub async fn run_cases(script: &str, args: &[&str], limit: Duration) -> HashMap<String, serde_json::Value> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python").join(script);
    // Killed if it outlives the limit (the future owning it is dropped).
    let running = tokio::process::Command::new(python()).arg(&script).args(args).kill_on_drop(true).output();
    let output = tokio::time::timeout(limit, running)
        .await
        .unwrap_or_else(|_| panic!("{} finishes within {limit:?}", script.display()))
        .expect("run python");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "python failed: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).expect("one JSON object per line");
            (value["case"].as_str().expect("a case name").to_string(), value)
        })
        .collect()
}
