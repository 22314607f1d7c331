//! The example binaries as a user runs them: provider and consumer in separate processes,
//! the demo, and the cluster walkthrough. `cargo test` builds the examples before running
//! this; a binary older than the sources is refused rather than tested. Every process gets a
//! wall-clock limit and is killed if the test fails half-way.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

#[allow(dead_code)]
#[path = "common/servers.rs"]
mod servers;
#[allow(dead_code)]
#[path = "common/tls.rs"]
mod tls;

fn example(name: &str) -> PathBuf {
    // This test runs from target/<profile>/deps; the examples sit in target/<profile>/examples.
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("target profile dir");
    let path = profile_dir.join("examples").join(name);
    assert!(path.exists(), "{} is not built; run the tests with `cargo test`", path.display());
    let built = std::fs::metadata(&path).and_then(|m| m.modified()).expect("example's mtime");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // What these binaries are built from (examples/proto is a package of its own).
    let sources = ["examples/greeter", "src", "rpc-core/src", "rpc-codec/src", "rpc-registry/src", "rpc-macros/src"];
    let top_level = std::fs::read_dir(root.join("examples")).expect("examples/").flatten().filter_map(|entry| {
        let path = entry.path();
        (path.extension() == Some("rs".as_ref())).then(|| entry.metadata().and_then(|m| m.modified()).ok()).flatten()
    });
    let newest = sources.iter().filter_map(|dir| newest_file(&root.join(dir))).chain(top_level).max();
    assert!(
        newest.is_none_or(|newest| newest <= built),
        "{} is older than the sources: `cargo test` (or `cargo build --examples`) rebuilds it",
        path.display()
    );
    path
}

/// The latest modification time of any file under `dir`.
fn newest_file(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let time = if path.is_dir() { newest_file(&path) } else { entry.metadata().and_then(|m| m.modified()).ok() };
        newest = newest.max(time);
    }
    newest
}

/// Kills the child if the test fails half-way.
struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `command` to the end, killing it (and failing) after `limit`; its output is read as
/// it comes, so a chatty child cannot block on a full pipe.
fn run(command: &mut Command, limit: Duration) -> Output {
    let child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start example");
    let mut child = Child(child);
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.0.stdout.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
    let stderr = drain(child.0.stderr.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>));
    let deadline = Instant::now() + limit;
    while child.0.try_wait().expect("poll example").is_none() {
        assert!(Instant::now() < deadline, "{command:?} did not finish within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = child.0.wait().expect("exit status");
    Output { status, stdout: stdout.join().expect("stdout"), stderr: stderr.join().expect("stderr") }
}

/// `line` without its ANSI colour codes (`ESC [ … m`).
fn without_colours(line: &str) -> String {
    let mut plain = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            plain.push(c);
        }
    }
    plain
}

/// A child's stdout lines, each awaited for at most 30 s.
struct Lines(mpsc::Receiver<String>);

impl Lines {
    fn of(stdout: std::process::ChildStdout) -> Lines {
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        Lines(receiver)
    }

    fn next(&self, what: &str) -> String {
        self.0.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|e| panic!("no line for {what} within 30 s: {e}"))
    }
}

#[test]
fn provider_and_consumer_talk_across_processes() {
    let (mut provider, lines) =
        provider(&["--addr", "127.0.0.1:0", "--label", "it-provider", "--registry", "memory://"]);
    let first = lines.next("the provider's address");
    let addr = first.rsplit(' ').next().unwrap().to_string();
    assert!(first.starts_with("provider it-provider listening on 127.0.0.1:"), "{first}");

    let output = run(
        Command::new(example("consumer")).args([
            "--addr",
            &addr,
            "--name",
            "tester",
            "--count",
            "2",
            "--serialization",
            "json",
        ]),
        Duration::from_secs(60),
    );
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("Hello, tester! — it-provider (call #1) (you are consumer)"), "{stdout}");
    assert!(stdout.contains("Hello, tester! — it-provider (call #2)"), "{stdout}");
    assert!(stdout.contains("lookup(1) = Ada Lovelace"), "{stdout}");
    assert!(stdout.contains("lookup(7) failed: not found: no user with id 7"), "{stdout}");

    // Ctrl-C makes the provider shut down gracefully.
    let pid = provider.0.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = provider.0.try_wait().unwrap() {
            assert!(status.success(), "provider exited with {status}");
            break;
        }
        assert!(Instant::now() < deadline, "provider did not stop after SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(lines.next("the provider's last words"), "provider it-provider stopped");
}

#[test]
fn provider_and_consumer_talk_over_mutual_tls() {
    let pki = tls::TestPki::new();
    let path = |name: &str| pki.path(name).to_string_lossy().into_owned();
    let (server_cert, server_key, ca) = (path("server.pem"), path("server.key"), path("ca.pem"));
    let (mut provider, lines) = provider(&[
        "--label",
        "tls-provider",
        "--registry",
        "memory://",
        "--tls-cert",
        &server_cert,
        "--tls-key",
        &server_key,
        "--tls-ca",
        &ca,
        "--tls-required",
    ]);
    let first = lines.next("the provider's address");
    let addr = first.rsplit(' ').next().unwrap().to_string();
    let consumer = |tls: &[&str]| {
        let mut command = Command::new(example("consumer"));
        command.args(["--addr", &addr, "--name", "tls", "--count", "1"]).args(tls);
        run(&mut command, Duration::from_secs(60))
    };
    let (client_cert, client_key) = (path("client.pem"), path("client.key"));
    let output = consumer(&["--tls-ca", &ca, "--tls-cert", &client_cert, "--tls-key", &client_key]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "consumer over mutual TLS failed:\n{stdout}");
    assert!(stdout.contains("Hello, tls! — tls-provider (call #1)"), "{stdout}");
    // Without a certificate, and in plaintext, the provider refuses.
    assert!(!consumer(&["--tls-ca", &ca]).status.success(), "served a client without a certificate");
    assert!(!consumer(&[]).status.success(), "served a plaintext client");
    provider.0.kill().unwrap();
}

#[test]
fn the_demo_prints_real_replies() {
    // RUST_LOG unset: the example's own filter decides what is logged.
    let output = run(Command::new(example("demo")).env_remove("RUST_LOG"), Duration::from_secs(60));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    // Only rpc's own log lines: dependencies (notify, hyper, …) stay quiet below warnings.
    let logged = String::from_utf8(output.stderr).unwrap();
    for line in logged.lines().map(without_colours) {
        // `… LEVEL target: message`
        let mut words =
            line.split_whitespace().skip_while(|w| !["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(w));
        let (level, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        let ours = ["rpc_core", "rpc_registry", "rpc_codec", "demo"].iter().any(|t| target.starts_with(t));
        assert!(ours || level == "WARN" || level == "ERROR", "a dependency's line in the demo: {line}");
    }
    let stdout = String::from_utf8(output.stdout).unwrap();
    for expected in [
        "Hello, world! — demo-provider (call #1)",
        "(you are a JSON caller)",
        "lookup(1) = Ada Lovelace <ada@example.org>",
        "lookup(42) failed as expected: not found: no user with id 42",
        "Hello, Barbara!",
        "provider shut down gracefully",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }
}

#[test]
fn the_cluster_example_loses_no_call_when_a_provider_is_killed() {
    let output = run(&mut Command::new(example("cluster")), Duration::from_secs(120));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "the cluster example failed:\n{stdout}");
    assert!(stdout.contains("failed calls: 0 of 6000"), "{stdout}");
    for balancer in ["RoundRobin", "WeightedRoundRobin", "WeightedRandom", "LeastActive", "PeakEwma", "ConsistentHash"]
    {
        assert!(stdout.contains(balancer), "{balancer} missing:\n{stdout}");
    }
}

/// Starts the provider example with `args`; returns it and its stdout's lines.
fn provider(args: &[&str]) -> (Child, Lines) {
    let mut provider = Child(
        Command::new(example("provider"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start provider"),
    );
    let lines = Lines::of(provider.0.stdout.take().unwrap());
    (provider, lines)
}

/// Starts a provider registered in `registry`; returns it and its address.
fn registered_provider(label: &str, registry: &str) -> (Child, String) {
    let (provider, lines) = provider(&["--label", label, "--registry", registry]);
    let first = lines.next("the provider's address");
    (provider, first.rsplit(' ').next().unwrap().to_string())
}

/// The consumer's output once it finds `providers` providers (registration follows the
/// provider's "listening" line by a moment; expiry takes a TTL).
fn consumer_output(registry: &str, providers: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let output = run(
            Command::new(example("consumer")).args(["--registry", registry, "--name", "x", "--count", "4"]),
            Duration::from_secs(60),
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        if stdout.contains(&format!("found {providers} provider(s)")) {
            assert!(output.status.success(), "consumer failed:\n{stdout}");
            return stdout;
        }
        assert!(Instant::now() < deadline, "the consumer never found {providers} providers:\n{stdout}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Two providers register in `registry`; the consumer finds both and calls both; one is
/// SIGKILLed (no deregistration) and disappears once its TTL or session runs out.
fn kill_one_of_two(registry: &str) {
    let (_east, east_addr) = registered_provider("east", registry);
    let (mut west, west_addr) = registered_provider("west", registry);

    let stdout = consumer_output(registry, 2);
    assert!(stdout.contains(&east_addr) && stdout.contains(&west_addr), "{stdout}");
    assert!(stdout.contains("— east (") && stdout.contains("— west ("), "calls reached both:\n{stdout}");

    // SIGKILL: no deregistration; the record expires after its TTL.
    let pid = west.0.id().to_string();
    assert!(Command::new("kill").args(["-KILL", &pid]).status().unwrap().success());
    let _ = west.0.wait();
    // No deregistration happened: what removes it is the TTL / lease / session running out
    // (within `consumer_output`'s 20 s), measured precisely in tests/registry.rs.
    let stdout = consumer_output(registry, 1);
    assert!(!stdout.contains(&west_addr), "{stdout}");
    assert!(!stdout.contains("— west ("), "{stdout}");
}

#[test]
fn file_registry_across_processes_and_a_sigkilled_provider_expires() {
    let dir = servers::TempDir::new("examples-registry");
    kill_one_of_two(&format!("file://{}?ttl=2s", dir.path().display()));
}

#[test]
fn zookeeper_registry_across_processes_and_a_sigkilled_providers_session_expires() {
    let zookeeper = servers::Zookeeper::start();
    kill_one_of_two(&zookeeper.url());
}

#[cfg(feature = "etcd")]
#[test]
fn etcd_registry_across_processes_and_a_sigkilled_providers_lease_expires() {
    let etcd = servers::Etcd::start();
    kill_one_of_two(&format!("{}?ttl=2s", etcd.url()));
}

/// The Python with Dubbo's SDKs (see tests/common/python.rs).
fn python() -> PathBuf {
    match std::env::var_os("RPC_TEST_PYTHON") {
        Some(python) => python.into(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target/grpc-venv/bin/python"),
    }
}

/// The Dubbo example as the README's "Joining a Dubbo estate" runs it, with ZooKeeper: the
/// Rust provider is called by Python's dubbo2 client, Dubbo's Python SDK over Triple, curl,
/// and the Rust consumer over each protocol; the Rust consumer calls a Python provider.
#[test]
fn the_dubbo_example_joins_a_dubbo_estate() {
    let zookeeper = servers::Zookeeper::start();
    let registry = format!("zookeeper://127.0.0.1:{}", zookeeper.port);
    let zk = format!("127.0.0.1:{}", zookeeper.port);
    let mut provider = Child(
        Command::new(example("dubbo"))
            .args(["provider", "--registry", &registry, "--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the dubbo example's provider"),
    );
    let lines = Lines::of(provider.0.stdout.take().unwrap());
    let first = lines.next("the provider's address");
    let addr = first.split_whitespace().nth(3).expect("listening on ADDR").trim_end_matches(',').to_string();
    let curl_hint = lines.next("the curl hint");
    assert!(curl_hint.contains(&format!("http://{addr}/org.apache.dubbo.samples.api.GreetingsService/sayHi")));

    let script = |name: &str| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python").join(name);
    // The consumers may start before the registration lands; each retries for 20 s.
    let until_ok = |command: &mut dyn FnMut() -> Command, expected: &[&str]| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let output = run(&mut command(), Duration::from_secs(60));
            let stdout = String::from_utf8_lossy(&output.stdout).to_string();
            if expected.iter().all(|e| stdout.contains(e)) {
                return stdout;
            }
            assert!(
                Instant::now() < deadline,
                "never saw {expected:?}:\n{stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    };
    until_ok(
        &mut || {
            let mut c = Command::new(python());
            c.arg(script("dubbo2_client.py")).args(["zookeeper", &zk]);
            c
        },
        &[r#""case": "hello", "ok": "Hi, python""#, r#""case": "add", "ok": 5"#],
    );
    until_ok(
        &mut || {
            let mut c = Command::new(python());
            c.arg(script("dubbo_triple.py")).args(["consumer", &zookeeper.port.to_string()]);
            c
        },
        &[r#""case": "raw_protobuf", "ok": "Hi, python""#, r#""value": 5"#],
    );
    let url = format!("http://{addr}/org.apache.dubbo.samples.api.GreetingsService/sayHi");
    let curl = run(
        Command::new("curl").args(["-sS", "-H", "content-type: application/json", "-d", r#"["Dubbo"]"#, &url]),
        Duration::from_secs(30),
    );
    assert_eq!(String::from_utf8_lossy(&curl.stdout), r#""Hi, Dubbo""#);
    for (protocol, shown) in [("rpc", "Binary"), ("grpc", "Grpc"), ("dubbo", "Dubbo")] {
        let stdout = until_ok(
            &mut || {
                let mut c = Command::new(example("dubbo"));
                c.args(["consumer", "--registry", &registry, "--protocol", protocol, "--name", "rust"]);
                c
            },
            &["Hi, rust", "2 + 3 = 5"],
        );
        assert!(stdout.contains(&format!("called {addr} over {shown}")), "{stdout}");
    }

    // The other way: a Python Dubbo provider, found and called by the Rust consumer.
    let port = servers::free_port().to_string();
    let mut python_provider = Child(
        Command::new(python())
            .arg(script("dubbo_triple.py"))
            .args(["provider", &zookeeper.port.to_string(), &port])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the Python provider"),
    );
    let python_lines = Lines::of(python_provider.0.stdout.take().unwrap());
    assert!(python_lines.next("the Python provider starting").contains("started"));
    until_ok(
        &mut || {
            let mut c = Command::new(example("dubbo"));
            c.args(["python-echo", "--registry", &registry, "--name", "rust"]);
            c
        },
        &["Hi from python, rust"],
    );
}
