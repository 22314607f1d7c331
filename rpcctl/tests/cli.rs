//! `rpcctl` end to end: the built binary against providers registered in a file registry,
//! each with an admin port: `ls`, `watch`, `call` (direct and through the registry),
//! `describe`, `offline` and `online`, and the exit codes of what goes wrong.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rpc::Status;

#[rpc::service(name = "demo.Ctl", version = "1.0.0")]
pub trait Ctl {
    async fn greet(&self, name: String) -> Result<String, Status>;
    async fn add(&self, a: i64, b: i64) -> Result<i64, Status>;
    async fn fail(&self) -> Result<(), Status>;
}

struct CtlImpl;

impl Ctl for CtlImpl {
    async fn greet(&self, name: String) -> Result<String, Status> {
        Ok(format!("Hello {name}"))
    }
    async fn add(&self, a: i64, b: i64) -> Result<i64, Status> {
        Ok(a + b)
    }
    async fn fail(&self) -> Result<(), Status> {
        Err(Status::failed_precondition("on purpose"))
    }
}

/// A registered provider with an admin port; its addresses.
async fn provider(registry: &str) -> (String, String) {
    let registry: Arc<dyn rpc::registry::Registry> = rpc::registry::connect(registry).await.expect("registry");
    let bound = rpc::Server::builder()
        .admin("127.0.0.1:0")
        .registry(registry)
        .add_service(CtlServer::new(CtlImpl))
        .bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addresses = (bound.local_addr().unwrap().to_string(), bound.admin_addr().unwrap().to_string());
    tokio::spawn(bound.serve());
    addresses
}

/// Runs `rpcctl` with `args`, killed after 60 s.
fn rpcctl(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rpcctl"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rpcctl");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("rpcctl {args:?} ran over 60 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("output")
}

fn text(output: &Output) -> (i32, String, String) {
    let out = String::from_utf8_lossy(&output.stdout).to_string();
    let err = String::from_utf8_lossy(&output.stderr).to_string();
    (output.status.code().unwrap_or(-1), out, err)
}

/// Polls `rpcctl ls` until `expected` says the listing is as wanted (the file registry
/// notices files within its poll interval).
fn ls_until(registry: &str, expected: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (code, out, err) = text(&rpcctl(&["ls", "--registry", registry, "demo.Ctl"]));
        assert_eq!(code, 0, "{err}");
        if expected(&out) || Instant::now() > deadline {
            return out;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_call_describe_and_steer_a_provider() {
    let dir = tempfile::tempdir().expect("temp dir");
    let registry = format!("file://{}", dir.path().display());
    let (addr, admin) = provider(&registry).await;

    let listing = ls_until(&registry, |out| out.contains(&addr));
    assert!(listing.starts_with("ADDRESS"), "{listing}");
    let row = listing.lines().find(|l| l.starts_with(&addr) && l.contains(" rpc ")).expect("the rpc:// row");
    assert!(row.contains("100") && row.contains("1.0.0") && row.contains("msgpack"), "{row}");

    let (code, out, err) = text(&rpcctl(&["call", "--addr", &addr, "demo.Ctl", "greet", "[\"world\"]"]));
    assert_eq!((code, out.trim()), (0, "\"Hello world\""), "{err}");
    let (code, out, err) = text(&rpcctl(&["call", "--registry", &registry, "demo.Ctl", "add", "[2, 3]"]));
    assert_eq!((code, out.trim()), (0, "5"), "{err}");
    let (code, out, err) =
        text(&rpcctl(&["call", "--addr", &addr, "--protocol", "grpc", "demo.Ctl", "greet", "[\"h2\"]"]));
    assert_eq!((code, out.trim()), (0, "\"Hello h2\""), "over gRPC too: {err}");

    let (code, out, err) = text(&rpcctl(&["describe", "--admin", &admin]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("demo.Ctl version 1.0.0 (msgpack)"), "{out}");
    assert!(out.contains("add(a, b)  [unary]") && out.contains("greet(name)"), "{out}");

    let (code, out, err) = text(&rpcctl(&["offline", &admin]));
    assert_eq!((code, out.trim()), (0, "OK"), "{err}");
    let listing = ls_until(&registry, |out| !out.contains(&addr));
    assert!(listing.contains("no providers of demo.Ctl"), "{listing}");
    let (code, out, _) = text(&rpcctl(&["call", "--addr", &addr, "demo.Ctl", "greet", "[\"still\"]"]));
    assert_eq!((code, out.trim()), (0, "\"Hello still\""), "an offline provider still answers");
    let (code, out, err) = text(&rpcctl(&["online", &admin]));
    assert_eq!((code, out.trim()), (0, "OK"), "{err}");
    assert!(ls_until(&registry, |out| out.contains(&addr)).contains(&addr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_and_unreachable_peers_get_clear_messages_and_exit_codes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let registry = format!("file://{}", dir.path().display());
    let (addr, admin) = provider(&registry).await;

    let cases: [(&[&str], i32, &str); 7] = [
        (&["call", "--addr", &addr, "demo.Ctl", "greet", "[\"open"], 2, "not JSON"),
        (&["call", "--addr", &addr, "demo.Ctl", "greet", "{\"name\": 1}"], 2, "JSON array"),
        (&["call", "--addr", &addr, "no.Such", "greet", "[]"], 2, "no.Such"),
        (&["call", "--addr", &addr, "demo.Ctl", "fail", "[]"], 1, "on purpose"),
        (&["call", "--addr", "127.0.0.1:1", "demo.Ctl", "greet", "[\"x\"]"], 3, "127.0.0.1:1"),
        (&["describe", "--admin", &admin, "no.Such"], 2, "no service"),
        (&["offline", "127.0.0.1:1"], 3, "admin port 127.0.0.1:1"),
    ];
    for (args, expected, message) in cases {
        let (code, _, err) = text(&rpcctl(args));
        assert_eq!(code, expected, "rpcctl {args:?}: {err}");
        assert!(err.starts_with("rpcctl: ") && err.contains(message), "rpcctl {args:?}: {err}");
    }
    let (code, _, err) = text(&rpcctl(&["ls", "--registry", "nosuch://x", "demo.Ctl"]));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("nosuch"), "{err}");
    let (code, _, _) = text(&rpcctl(&["call", "demo.Ctl", "greet"]));
    assert_eq!(code, 2, "clap's usage error: neither --addr nor --registry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_prints_providers_as_they_come() {
    let dir = tempfile::tempdir().expect("temp dir");
    let registry = format!("file://{}", dir.path().display());
    let (first, _) = provider(&registry).await;
    ls_until(&registry, |out| out.contains(&first));
    let mut watch = Command::new(env!("CARGO_BIN_EXE_rpcctl"))
        .args(["watch", "--registry", &registry, "demo.Ctl", "--for", "60"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("run rpcctl watch");
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    let stdout = watch.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });
    let next = |what: &str| lines_rx.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|_| panic!("no {what}"));
    let heading = next("first set");
    assert!(heading.ends_with("providers of demo.Ctl"), "{heading}");
    let (second, _) = provider(&registry).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.starts_with(&format!("+ {second}"))) {
        assert!(Instant::now() < deadline, "the second provider never showed: {seen:?}");
        seen.push(next("change"));
    }
    let _ = watch.kill();
    let _ = watch.wait();
}
