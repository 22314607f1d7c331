//! Dubbo 3's application-level discovery in a real ZooKeeper (started here), with Apache
//! Curator's service discovery (Debian's libcurator-discovery-java, what Dubbo's
//! `ZookeeperServiceDiscovery` is built on) as the Java peer: a small Java program
//! (`tests/java/CuratorDiscovery.java`) reads our provider's instance the way a Java Dubbo
//! 3.3 consumer does (mapping → instances → remote metadata), and registers a Java-style
//! instance that our consumer finds and calls. In a real etcd, the instance as Dubbo's
//! `EtcdServiceDiscovery` keeps it, its metadata answered by our `MetadataService` to
//! dubbo-ssl-python (a real dubbo2 + Hessian2 client) as a Java consumer asks it.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::Child;
use std::time::Duration;

use common::greetings::{Greetings, GreetingsServiceClient, GreetingsServiceServer, GREETINGS_SERVICE_DESCRIPTOR};
use common::java::Program;
use common::servers::Zookeeper;
use rpc::registry::MetadataStorage;
use rpc::server::RegisterMode;
use rpc::{Channel, Protocol};
use tokio::sync::oneshot;

const SERVICE: &str = "org.apache.dubbo.samples.api.GreetingsService";

const CURATOR_JARS: [&str; 10] = [
    "curator-client.jar",
    "curator-framework.jar",
    "curator-x-discovery.jar",
    "zookeeper.jar",
    "zookeeper-jute.jar",
    "guava.jar",
    "jackson-core.jar",
    "jackson-databind.jar",
    "jackson-annotations.jar",
    "slf4j-api.jar",
];

fn curator() -> Program {
    Program::compile(
        &["CuratorDiscovery.java", "org/apache/dubbo/registry/zookeeper/ZookeeperInstance.java"],
        &CURATOR_JARS,
    )
}

fn connect_string(zookeeper: &Zookeeper) -> String {
    format!("127.0.0.1:{}", zookeeper.port)
}

/// A greetings provider registered in `zookeeper` with `mode` (none without a registry); it
/// stops when the sender is dropped.
async fn provider(zookeeper: Option<&Zookeeper>, mode: RegisterMode) -> (std::net::SocketAddr, oneshot::Sender<()>) {
    provider_at(zookeeper.map(Zookeeper::url).as_deref(), mode, MetadataStorage::default()).await
}

/// A greetings provider registered at `registry_url` with `mode` and its metadata stored in
/// `storage` (none without a registry); it stops when the sender is dropped.
async fn provider_at(
    registry_url: Option<&str>,
    mode: RegisterMode,
    storage: MetadataStorage,
) -> (std::net::SocketAddr, oneshot::Sender<()>) {
    let mut builder = rpc::Server::builder()
        .add_service(GreetingsServiceServer::new(Greetings::default()))
        .application("rust-greetings")
        .register_mode(mode)
        .metadata_storage(storage);
    if let Some(url) = registry_url {
        builder = builder.registry(rpc::registry::connect(url).await.expect("reach the registry"));
    }
    let bound = builder.bind("127.0.0.1:0").await.expect("bind");
    let addr = bound.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(bound.serve_with_shutdown(async move {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// The children of `path` once `wanted` holds of their number (within 10 s).
async fn children(zookeeper: &Zookeeper, path: &str, wanted: impl Fn(usize) -> bool) -> Vec<String> {
    let client = zookeeper_client::Client::connect(&connect_string(zookeeper)).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..200 {
        seen = client.list_children(path).await.unwrap_or_default();
        if wanted(seen.len()) {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{path} still has {seen:?} after 10 s");
}

async fn consumer(zookeeper: &Zookeeper, protocol: Option<Protocol>) -> Channel {
    let registry = rpc::registry::connect(&zookeeper.url()).await.unwrap();
    let mut builder =
        Channel::builder().registry(registry, &GREETINGS_SERVICE_DESCRIPTOR).timeout(Duration::from_secs(5));
    if let Some(protocol) = protocol {
        builder = builder.protocol(protocol);
    }
    builder.build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_only_provider_is_found_by_curator_and_by_rpc_consumers() {
    let zookeeper = Zookeeper::start();
    let program = curator();
    let (addr, stop) = provider(Some(&zookeeper), RegisterMode::Instance).await;
    children(&zookeeper, "/services/rust-greetings", |n| n == 1).await;
    let providers = children(&zookeeper, &format!("/dubbo/{SERVICE}/providers"), |_| true).await;
    assert!(providers.is_empty(), "register-mode instance writes no interface-level nodes: {providers:?}");

    // Java reads it as a Dubbo 3.3 consumer does.
    let output =
        program.command("CuratorDiscovery", &["query", &connect_string(&zookeeper), SERVICE]).output().unwrap();
    assert!(output.status.success(), "curator query failed: {}", String::from_utf8_lossy(&output.stderr));
    let lines: Vec<String> = String::from_utf8(output.stdout).unwrap().lines().map(str::to_string).collect();
    let tail = format!("{addr}/{SERVICE}?serialization=hessian2&version=1.0.0&application=");
    assert_eq!(
        lines,
        [
            format!("instance {addr} rust-greetings org.apache.dubbo.registry.zookeeper.ZookeeperInstance"),
            format!("dubbo://{tail}rust-greetings"),
            // Our own protocol's registration carries no Dubbo parameters.
            format!("rpc://{tail}"),
            format!("tri://{tail}rust-greetings"),
        ],
    );

    // Our consumers find it the same way, over the protocol they prefer or are told to use.
    let channel = consumer(&zookeeper, None).await;
    assert!(channel.directory().unwrap().wait_for(1, Duration::from_secs(10)).await, "found by application");
    assert_eq!(channel.endpoints()[0].protocol, Protocol::Binary);
    assert_eq!(GreetingsServiceClient::new(channel.clone()).add(2, 3).await.unwrap(), 5);
    let dubbo = consumer(&zookeeper, Some(Protocol::Dubbo)).await;
    assert!(dubbo.directory().unwrap().wait_for(1, Duration::from_secs(10)).await);
    assert_eq!(dubbo.endpoints()[0].protocol, Protocol::Dubbo);
    assert_eq!(GreetingsServiceClient::new(dubbo).say_hi("app".into()).await.unwrap(), "Hi, app");

    // Stopping the provider withdraws its instance, and the consumer sees it go.
    drop(stop);
    assert!(channel.directory().unwrap().wait_for(0, Duration::from_secs(10)).await, "the instance is withdrawn");
    children(&zookeeper, "/services/rust-greetings", |n| n == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_layouts_by_default_and_found_once() {
    let zookeeper = Zookeeper::start();
    let (_addr, _stop) = provider(Some(&zookeeper), RegisterMode::default()).await;
    children(&zookeeper, "/services/rust-greetings", |n| n == 1).await;
    children(&zookeeper, &format!("/dubbo/{SERVICE}/providers"), |n| n == 3).await;
    let client = zookeeper_client::Client::connect(&connect_string(&zookeeper)).await.unwrap();
    let (mapping, _) = client.get_data(&format!("/dubbo/mapping/{SERVICE}")).await.unwrap();
    assert_eq!(mapping, b"rust-greetings");
    let revisions = children(&zookeeper, "/dubbo/metadata/rust-greetings", |n| n == 1).await;
    assert_eq!(revisions[0].len(), 32, "an MD5 revision: {revisions:?}");
    let channel = consumer(&zookeeper, None).await;
    assert!(channel.directory().unwrap().wait_for(1, Duration::from_secs(10)).await, "one endpoint, not two");
    assert_eq!(GreetingsServiceClient::new(channel).add(1, 1).await.unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_with_local_metadata_is_found_through_its_metadata_service() {
    let zookeeper = Zookeeper::start();
    // As a Java provider with Dubbo's default `metadata-type=local` registers: the instance
    // and the mapping, no metadata report.
    let (addr, stop) = provider_at(Some(&zookeeper.url()), RegisterMode::Instance, MetadataStorage::Local).await;
    let instances = children(&zookeeper, "/services/rust-greetings", |n| n == 1).await;
    assert_eq!(instances, [addr.to_string()]);
    let client = zookeeper_client::Client::connect(&connect_string(&zookeeper)).await.unwrap();
    let (record, _) = client.get_data(&format!("/services/rust-greetings/{addr}")).await.unwrap();
    let record: serde_json::Value = serde_json::from_slice(&record).unwrap();
    assert_eq!(record["payload"]["metadata"]["dubbo.metadata.storage-type"], "local");
    assert!(client.list_children("/dubbo/metadata/rust-greetings").await.unwrap_or_default().is_empty());
    assert!(client.list_children(&format!("/dubbo/{SERVICE}/providers")).await.unwrap_or_default().is_empty());

    // Our consumer asks the instance's MetadataService what it serves, then calls it.
    let channel = consumer(&zookeeper, None).await;
    assert!(channel.directory().unwrap().wait_for(1, Duration::from_secs(10)).await, "found through its metadata");
    assert_eq!(channel.endpoints()[0].address, addr.to_string());
    assert_eq!(GreetingsServiceClient::new(channel.clone()).add(20, 22).await.unwrap(), 42);
    let dubbo = consumer(&zookeeper, Some(Protocol::Dubbo)).await;
    assert!(dubbo.directory().unwrap().wait_for(1, Duration::from_secs(10)).await);
    assert_eq!(GreetingsServiceClient::new(dubbo).say_hi("local".into()).await.unwrap(), "Hi, local");
    drop(stop);
    assert!(channel.directory().unwrap().wait_for(0, Duration::from_secs(10)).await, "the instance is withdrawn");
}

/// A Java process keeping an application instance registered until dropped.
struct JavaInstance(Child);

impl Drop for JavaInstance {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rpc_consumer_calls_a_provider_curator_registered_by_application() {
    let zookeeper = Zookeeper::start();
    let program = curator();
    // The provider itself registers nothing: the Java process announces it, as a Java
    // provider with `register-mode=instance` and remote metadata would announce itself.
    let (addr, _stop) = provider(None, RegisterMode::Interface).await;
    let port = addr.port().to_string();
    let args = ["register", &connect_string(&zookeeper), SERVICE, "java-greetings", "127.0.0.1", &port, "dubbo"];
    let mut java = JavaInstance(program.command("CuratorDiscovery", &args).spawn().expect("run java"));
    let mut stdout = BufReader::new(java.0.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "registered", "curator registration");

    let channel = consumer(&zookeeper, None).await;
    assert!(channel.directory().unwrap().wait_for(1, Duration::from_secs(10)).await, "found by application");
    let endpoint = &channel.endpoints()[0];
    assert_eq!((endpoint.protocol, endpoint.address.as_str()), (Protocol::Dubbo, addr.to_string().as_str()));
    let reply = GreetingsServiceClient::new(channel.clone()).say_hi("curator".into()).await.unwrap();
    assert_eq!(reply, "Hi, curator");

    // The Java process unregisters when its stdin closes; the consumer follows.
    let mut stdin = java.0.stdin.take().unwrap();
    stdin.flush().unwrap();
    drop(stdin);
    assert!(channel.directory().unwrap().wait_for(0, Duration::from_secs(10)).await, "the instance is withdrawn");
}

#[cfg(feature = "etcd")] // needs protoc to build; the test command enables it
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_etcd_the_instance_is_dubbos_and_its_metadata_service_answers_a_dubbo2_client() {
    let etcd = common::servers::Etcd::start();
    let etcd_url = format!("{}?ttl=2s", etcd.url());
    let (addr, stop) = provider_at(Some(&etcd_url), RegisterMode::Instance, MetadataStorage::default()).await;
    let key = format!("/services/rust-greetings/{addr}");
    let record = etcd.value(&key).unwrap_or_else(|| panic!("{key} is written before serving: {:?}", etcd.keys("/")));
    assert!(etcd.keys("/dubbo/").is_empty(), "instance mode writes no interface-level keys");
    let record: serde_json::Value = serde_json::from_slice(&record).expect("JSON");
    assert_eq!(record["serviceName"], "rust-greetings");
    assert_eq!((record["host"].as_str(), record["port"].as_u64()), (Some("127.0.0.1"), Some(u64::from(addr.port()))));
    assert_eq!((record["enabled"].as_bool(), record["healthy"].as_bool()), (Some(true), Some(true)));
    let metadata = &record["metadata"];
    assert_eq!(metadata["dubbo.metadata.storage-type"], "local", "Dubbo's etcd keeps no application metadata");
    let params: serde_json::Value =
        serde_json::from_str(metadata["dubbo.metadata-service.url-params"].as_str().expect("url params")).unwrap();
    assert_eq!(params["port"], addr.port().to_string());
    assert_eq!((params["protocol"].as_str(), params["version"].as_str()), (Some("dubbo"), Some("1.0.0")));
    let revision = metadata["dubbo.metadata.revision"].as_str().expect("a revision").to_string();
    assert_eq!(revision.len(), 32, "an MD5 revision: {revision}");

    // A real dubbo2 + Hessian2 client asks the MetadataService for that revision.
    let cases = common::python::run_cases(
        "dubbo2_client.py",
        &["metadata", &addr.to_string(), "rust-greetings", &revision],
        Duration::from_secs(60),
    )
    .await;
    let info = &cases["metadata"]["ok"];
    assert_eq!((info["app"].as_str(), info["revision"].as_str()), (Some("rust-greetings"), Some(revision.as_str())));
    let services = info["services"].as_object().unwrap_or_else(|| panic!("services: {:?}", cases["metadata"]));
    let mut keys: Vec<&str> = services.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let key_of = |protocol: &str| format!("{SERVICE}:1.0.0:{protocol}");
    assert_eq!(keys, [key_of("dubbo"), key_of("rpc"), key_of("tri")]);
    let dubbo = &services[&key_of("dubbo")];
    assert_eq!((dubbo["name"].as_str(), dubbo["protocol"].as_str()), (Some(SERVICE), Some("dubbo")));
    assert_eq!(dubbo["port"].as_u64(), Some(u64::from(addr.port())));
    assert_eq!(dubbo["params"]["serialization"], "hessian2");
    assert_eq!(cases["other_revision"]["ok"], serde_json::Value::Null, "{:?}", cases["other_revision"]);

    // Stopping the provider withdraws its instance.
    drop(stop);
    for _ in 0..200 {
        if etcd.value(&key).is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{key} is still there 10 s after the provider stopped");
}
