//! Real registry servers for the tests: etcd and ZooKeeper processes on free loopback ports
//! with temporary data directories, stopped (and cleaned up) when dropped. `scripts/test.sh`
//! installs them (Debian's `etcd-server` and `zookeeper`).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (bound and released; the tests start their servers right after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// A fresh temporary directory, removed by its owner.
pub fn temp_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let dir = std::env::temp_dir().join(format!("rpc-test-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Waits until something accepts TCP connections on `port`.
fn wait_listening(port: u16, what: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before listening: {status}");
        }
        assert!(Instant::now() < deadline, "{what} did not listen on {port} within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A server process the tests own: started with `command`, waited for on `port`, killed
/// (data kept) by `stop`, started again on the same port and data by `restart`, and killed
/// with its directory removed on drop.
struct Daemon {
    name: &'static str,
    port: u16,
    dir: PathBuf,
    command: Box<dyn Fn() -> Command + Send>,
    child: Option<Child>,
}

impl Daemon {
    fn start(name: &'static str, port: u16, dir: PathBuf, command: impl Fn() -> Command + Send + 'static) -> Daemon {
        let mut daemon = Daemon { name, port, dir, command: Box::new(command), child: None };
        daemon.launch();
        daemon
    }

    fn launch(&mut self) {
        let mut child = (self.command)()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {} ({e}); scripts/test.sh installs it from Debian", self.name));
        wait_listening(self.port, self.name, &mut child);
        self.child = Some(child);
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn restart(&mut self) {
        self.stop();
        self.launch();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An etcd server (one member) on loopback.
pub struct Etcd {
    pub client_port: u16,
    daemon: Daemon,
}

impl Etcd {
    pub fn start() -> Etcd {
        let (client_port, peer_port, dir) = (free_port(), free_port(), temp_dir("etcd"));
        let data = dir.join("data");
        let daemon = Daemon::start("etcd", client_port, dir, move || {
            let client = format!("http://127.0.0.1:{client_port}");
            let peer = format!("http://127.0.0.1:{peer_port}");
            let mut command = Command::new(binary("etcd", &["/usr/bin/etcd"]));
            command
                .args(["--name", "test", "--data-dir"])
                .arg(&data)
                .args(["--listen-client-urls", &client, "--advertise-client-urls", &client])
                .args(["--listen-peer-urls", &peer, "--initial-advertise-peer-urls", &peer])
                .args(["--initial-cluster", &format!("test={peer}"), "--log-level", "error"]);
            command
        });
        Etcd { client_port, daemon }
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
}

/// A standalone ZooKeeper server on loopback, with a short tick so sessions expire fast.
pub struct Zookeeper {
    pub port: u16,
    daemon: Daemon,
}

impl Zookeeper {
    pub fn start() -> Zookeeper {
        let (port, dir) = (free_port(), temp_dir("zookeeper"));
        let config = format!(
            "tickTime=200\nminSessionTimeout=400\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=ruok\n",
            dir.join("data").display(),
        );
        let config_path = dir.join("zoo.cfg");
        std::fs::write(&config_path, config).expect("write zoo.cfg");
        let daemon = Daemon::start("zookeeper", port, dir, move || {
            let mut command = Command::new(binary("java", &["/usr/bin/java"]));
            command
                .args(["-Xmx256m", "-cp", &zookeeper_classpath(), "org.apache.zookeeper.server.ZooKeeperServerMain"])
                .arg(&config_path);
            command
        });
        Zookeeper { port, daemon }
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

/// `name` from PATH, or the first existing fallback path.
fn binary(name: &str, fallbacks: &[&str]) -> PathBuf {
    fallbacks.iter().map(PathBuf::from).find(|p| p.exists()).unwrap_or_else(|| PathBuf::from(name))
}
