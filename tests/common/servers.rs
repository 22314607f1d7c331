//! Real registry servers for the tests: etcd and ZooKeeper processes on free loopback ports
//! with temporary data directories, stopped (and cleaned up) when dropped. `scripts/test.sh`
//! installs them (Debian's `etcd-server` and `zookeeper`). Each server's output goes to a log
//! in its directory, printed if it fails to start.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (bound and released). Another process may take it before the server
/// does: servers that find their port taken are started again on fresh ones.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// A fresh temporary directory, removed when dropped (whether the test passed or not).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!("rpc-test-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How a daemon proves it is the server the test started (and not another process that
/// took the port): a request and what its answer contains.
struct Identity {
    request: &'static [u8],
    answer_contains: &'static str,
}

/// A server process the tests own: started with `command`, waited for until it answers on
/// `port`, killed (data kept) by `stop`, started again on the same port and data by
/// `restart`, and killed with its directory removed on drop.
struct Daemon {
    name: &'static str,
    port: u16,
    identity: Identity,
    dir: TempDir,
    command: Box<dyn Fn() -> Command + Send>,
    child: Option<Child>,
}

impl Daemon {
    /// Starts it; `Err` (with its log) if it did not come up, e.g. because its port was taken.
    fn start(
        name: &'static str,
        port: u16,
        identity: Identity,
        dir: TempDir,
        command: impl Fn() -> Command + Send + 'static,
    ) -> Result<Daemon, String> {
        let mut daemon = Daemon { name, port, identity, dir, command: Box::new(command), child: None };
        daemon.launch()?;
        Ok(daemon)
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join(format!("{}.log", self.name))
    }

    fn launch(&mut self) -> Result<(), String> {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.log_path()).expect("open log");
        let child = (self.command)()
            .stdout(Stdio::from(log.try_clone().expect("log handle")))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("start {} ({e}); scripts/test.sh installs it from Debian", self.name));
        // Owned before waiting, so a failed start still kills it (on drop or `stop`).
        self.child = Some(child);
        self.wait_answering().map_err(|why| {
            self.stop();
            let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
            format!("{} on port {}: {why}\n--- its log:\n{log}", self.name, self.port)
        })
    }

    /// Waits until the server answers its identity request on its port (30 s at most).
    fn wait_answering(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(answer) = ask(self.port, self.identity.request) {
                if answer.contains(self.identity.answer_contains) {
                    return Ok(());
                }
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                return Err(format!("exited before answering: {status}"));
            }
            if Instant::now() >= deadline {
                return Err("did not answer within 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn restart(&mut self) {
        self.stop();
        if let Err(why) = self.launch() {
            panic!("restart {why}");
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sends `request` to 127.0.0.1:`port` and reads the answer until the peer closes (or 2 s).
fn ask(port: u16, request: &[u8]) -> Option<String> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream.write_all(request).ok()?;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    Some(String::from_utf8_lossy(&answer).into_owned())
}

/// Starts a daemon on fresh ports, up to three times if its ports were taken meanwhile.
fn start_on_free_ports<T>(name: &str, mut attempt: impl FnMut() -> Result<T, String>) -> T {
    let mut failures = Vec::new();
    for _ in 0..3 {
        match attempt() {
            Ok(daemon) => return daemon,
            Err(why) => failures.push(why),
        }
    }
    panic!("{name} did not start in three attempts:\n{}", failures.join("\n"))
}

/// An etcd server (one member) on loopback.
pub struct Etcd {
    pub client_port: u16,
    /// With [`Etcd::start_tls`], the port serving clients over TLS.
    pub tls_port: Option<u16>,
    daemon: Daemon,
}

impl Etcd {
    pub fn start() -> Etcd {
        start_on_free_ports("etcd", || Etcd::try_start(None))
    }

    /// An etcd that also serves clients over TLS with this certificate and key (PEM files), on
    /// `tls_port`; the plaintext port stays for the tests' own checks.
    pub fn start_tls(cert: &Path, key: &Path) -> Etcd {
        start_on_free_ports("etcd", || Etcd::try_start(Some((cert.to_path_buf(), key.to_path_buf()))))
    }

    fn try_start(tls: Option<(PathBuf, PathBuf)>) -> Result<Etcd, String> {
        let (client_port, peer_port, dir) = (free_port(), free_port(), TempDir::new("etcd"));
        let tls_port = tls.as_ref().map(|_| free_port());
        let data = dir.path().join("data");
        let identity = Identity { request: b"GET /health HTTP/1.0\r\n\r\n", answer_contains: "\"health\":\"true\"" };
        let daemon = Daemon::start("etcd", client_port, identity, dir, move || {
            let mut client = format!("http://127.0.0.1:{client_port}");
            if let Some(port) = tls_port {
                client.push_str(&format!(",https://127.0.0.1:{port}"));
            }
            let peer = format!("http://127.0.0.1:{peer_port}");
            let mut command = Command::new(binary("etcd", &["/usr/bin/etcd"]));
            if let Some((cert, key)) = &tls {
                command.arg("--cert-file").arg(cert).arg("--key-file").arg(key);
            }
            command
                .args(["--name", "test", "--data-dir"])
                .arg(&data)
                .args(["--listen-client-urls", &client, "--advertise-client-urls", &client])
                .args(["--listen-peer-urls", &peer, "--initial-advertise-peer-urls", &peer])
                .args(["--initial-cluster", &format!("test={peer}"), "--log-level", "error"]);
            command
        })?;
        Ok(Etcd { client_port, tls_port, daemon })
    }

    /// Turns on etcd's authentication with a `root` user of this password (through its JSON
    /// gateway, as `etcdctl user add` and `auth enable` do).
    pub fn enable_auth(&self, password: &str) {
        for (path, body) in [
            ("user/add", serde_json::json!({"name": "root", "password": password})),
            ("role/add", serde_json::json!({"name": "root"})),
            ("user/grant", serde_json::json!({"user": "root", "role": "root"})),
            ("enable", serde_json::json!({})),
        ] {
            let output = Command::new("curl")
                .args(["-sS", "--fail-with-body", "-X", "POST", "-d", &body.to_string()])
                .arg(format!("http://127.0.0.1:{}/v3/auth/{path}", self.client_port))
                .output()
                .expect("run curl");
            assert!(output.status.success(), "etcd auth/{path}: {}", String::from_utf8_lossy(&output.stdout));
        }
    }

    /// `etcd://127.0.0.1:port`, for `rpc_registry::connect`.
    pub fn url(&self) -> String {
        format!("etcd://127.0.0.1:{}", self.client_port)
    }

    /// Kills the server (its data stays).
    pub fn stop(&mut self) {
        self.daemon.stop();
    }

    /// Starts it again on the same ports and data.
    pub fn restart(&mut self) {
        self.daemon.restart();
    }

    /// The keys under `prefix`, as `etcdctl get --prefix --keys-only` lists them.
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        let mut end = prefix.as_bytes().to_vec();
        *end.last_mut().expect("a prefix") += 1;
        self.range(
            serde_json::json!({"key": base64_of(prefix.as_bytes()), "range_end": base64_of(&end), "keys_only": true}),
        )
        .into_iter()
        .map(|(key, _)| key)
        .collect()
    }

    /// The value at `key`, if it is there.
    pub fn value(&self, key: &str) -> Option<Vec<u8>> {
        self.range(serde_json::json!({"key": base64_of(key.as_bytes())})).into_iter().next().map(|(_, value)| value)
    }

    /// A read through etcd's JSON gateway (`/v3/kv/range`, keys and values in base64).
    fn range(&self, body: serde_json::Value) -> Vec<(String, Vec<u8>)> {
        use base64::Engine;
        let engine = base64::engine::general_purpose::STANDARD;
        let output = Command::new("curl")
            .args(["-sS", "-X", "POST", "-d", &body.to_string()])
            .arg(format!("http://127.0.0.1:{}/v3/kv/range", self.client_port))
            .output()
            .expect("run curl");
        assert!(output.status.success(), "curl: {}", String::from_utf8_lossy(&output.stderr));
        let reply: serde_json::Value = serde_json::from_slice(&output.stdout).expect("etcd answers JSON");
        let decode = |field: &serde_json::Value| engine.decode(field.as_str().unwrap_or_default()).expect("base64");
        let kvs = reply["kvs"].as_array().cloned().unwrap_or_default();
        kvs.iter()
            .map(|kv| (String::from_utf8(decode(&kv["key"])).expect("a UTF-8 key"), decode(&kv["value"])))
            .collect()
    }
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A standalone ZooKeeper server on loopback, with a short tick so sessions expire fast.
pub struct Zookeeper {
    pub port: u16,
    daemon: Daemon,
}

impl Zookeeper {
    pub fn start() -> Zookeeper {
        start_on_free_ports("zookeeper", Zookeeper::try_start)
    }

    fn try_start() -> Result<Zookeeper, String> {
        let (port, dir) = (free_port(), TempDir::new("zookeeper"));
        let config = format!(
            "tickTime=200\nminSessionTimeout=400\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=ruok\n",
            dir.path().join("data").display(),
        );
        let config_path = dir.path().join("zoo.cfg");
        std::fs::write(&config_path, config).expect("write zoo.cfg");
        let identity = Identity { request: b"ruok", answer_contains: "imok" };
        let daemon = Daemon::start("zookeeper", port, identity, dir, move || {
            let mut command = Command::new(binary("java", &["/usr/bin/java"]));
            command
                .args(["-Xmx256m", "-cp", &zookeeper_classpath(), "org.apache.zookeeper.server.ZooKeeperServerMain"])
                .arg(&config_path);
            command
        })?;
        Ok(Zookeeper { port, daemon })
    }

    /// `zookeeper://127.0.0.1:port?session=2s`, for `rpc_registry::connect`.
    pub fn url(&self) -> String {
        format!("zookeeper://127.0.0.1:{}?session=2s", self.port)
    }

    pub fn stop(&mut self) {
        self.daemon.stop();
    }

    pub fn restart(&mut self) {
        self.daemon.restart();
    }
}

/// ZooKeeper's jar and what it needs to run standalone, from Debian's package layout.
fn zookeeper_classpath() -> String {
    let java = PathBuf::from("/usr/share/java");
    let jars = [
        "zookeeper.jar",
        "zookeeper-jute.jar",
        "slf4j-api.jar",
        "slf4j-simple.jar",
        "netty-all.jar",
        "netty-handler.jar",
        "netty-common.jar",
        "netty-buffer.jar",
        "netty-transport.jar",
        "netty-codec.jar",
        "netty-resolver.jar",
        "netty-transport-native-unix-common.jar",
        "netty-transport-native-epoll.jar",
        "commons-io.jar",
        "jline.jar",
        "metrics-core.jar",
        "snappy-java.jar",
    ];
    jars.iter()
        .map(|jar| java.join(jar))
        .filter(|path| path.exists())
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(":")
}

/// The first of `fallbacks` that exists, else `name` (looked up on PATH).
fn binary(name: &str, fallbacks: &[&str]) -> PathBuf {
    fallbacks.iter().map(PathBuf::from).find(|p| p.exists()).unwrap_or_else(|| PathBuf::from(name))
}
