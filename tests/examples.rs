//! The example binaries as a user runs them: provider and consumer in separate processes.
//! `cargo test` builds the examples before running this.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[allow(dead_code)]
#[path = "common/servers.rs"]
mod servers;

fn example(name: &str) -> PathBuf {
    // This test runs from target/<profile>/deps; the examples sit in target/<profile>/examples.
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("target profile dir");
    let path = profile_dir.join("examples").join(name);
    assert!(path.exists(), "{} is not built; run the tests with `cargo test`", path.display());
    path
}

/// Kills the child if the test fails half-way.
struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn provider_and_consumer_talk_across_processes() {
    let (mut provider, mut lines) =
        provider(&["--addr", "127.0.0.1:0", "--label", "it-provider", "--registry", "memory://"]);
    let first = lines.next().expect("provider prints its address").unwrap();
    let addr = first.rsplit(' ').next().unwrap().to_string();
    assert!(first.starts_with("provider it-provider listening on 127.0.0.1:"), "{first}");

    let output = Command::new(example("consumer"))
        .args(["--addr", &addr, "--name", "tester", "--count", "2", "--serialization", "json"])
        .stderr(Stdio::null())
        .output()
        .expect("run consumer");
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
    assert_eq!(lines.next().unwrap().unwrap(), "provider it-provider stopped");
}

#[test]
fn the_demo_prints_real_replies() {
    let output = Command::new(example("demo")).stderr(Stdio::null()).output().expect("run demo");
    assert!(output.status.success());
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

/// Starts the provider example with `args`; returns it and its stdout's lines.
fn provider(args: &[&str]) -> (Child, std::io::Lines<BufReader<std::process::ChildStdout>>) {
    let mut provider = Child(
        Command::new(example("provider"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start provider"),
    );
    let lines = BufReader::new(provider.0.stdout.take().unwrap()).lines();
    (provider, lines)
}

/// Starts a provider registered in `registry`; returns it and its address.
fn registered_provider(label: &str, registry: &str) -> (Child, String) {
    let (provider, mut lines) = provider(&["--label", label, "--registry", registry]);
    let first = lines.next().expect("provider prints its address").unwrap();
    (provider, first.rsplit(' ').next().unwrap().to_string())
}

/// The consumer's output once it finds `providers` providers (registration follows the
/// provider's "listening" line by a moment; expiry takes a TTL).
fn consumer_output(registry: &str, providers: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let output = Command::new(example("consumer"))
            .args(["--registry", registry, "--name", "x", "--count", "4"])
            .stderr(Stdio::null())
            .output()
            .expect("run consumer");
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
    // (within `consumer_output`'s 10 s), measured precisely in tests/registry.rs.
    let stdout = consumer_output(registry, 1);
    assert!(!stdout.contains(&west_addr), "{stdout}");
    assert!(!stdout.contains("— west ("), "{stdout}");
}

#[test]
fn file_registry_across_processes_and_a_sigkilled_provider_expires() {
    let dir = std::env::temp_dir().join(format!("rpc-examples-registry-{}", std::process::id()));
    kill_one_of_two(&format!("file://{}?ttl=1s", dir.display()));
    let _ = std::fs::remove_dir_all(dir);
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
