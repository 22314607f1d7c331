//! Joining a Dubbo estate through ZooKeeper (a real server, started here), with real Python
//! peers from PyPI: a dubbo2 consumer (`dubbo-ssl-python` 0.9.6) and Dubbo's Python SDK
//! (`apache-dubbo` 3.0.0b1, Triple) find an `rpc` provider in Dubbo's layout and call it; an
//! `rpc` consumer finds the SDK's provider and calls it; and an `rpc` consumer picks, of the
//! protocols a provider registered, the one it prefers, or the one it is told to.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::greetings::{Greetings, GreetingsServiceClient, GreetingsServiceServer, GREETINGS_SERVICE_DESCRIPTOR};
use common::servers::{free_port, Zookeeper};
use rpc::registry::Instance;
use rpc::{Channel, Protocol, Status};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::oneshot;

const SERVICE: &str = "org.apache.dubbo.samples.api.GreetingsService";

/// A provider of the greetings registered in `zookeeper`; it stops when the sender is dropped.
async fn provider(zookeeper: &Zookeeper) -> (SocketAddr, oneshot::Sender<()>) {
    let registry = rpc::registry::connect(&zookeeper.url()).await.expect("reach ZooKeeper");
    let bound = rpc::Server::builder()
        .add_service(GreetingsServiceServer::new(Greetings::default()))
        .registry(registry)
        .application("rust-greetings")
        .bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = bound.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(bound.serve_with_shutdown(async move {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// The provider URLs under `/dubbo/{service}/providers`, decoded; waits until `count` are there.
async fn provider_urls(zookeeper: &Zookeeper, service: &str, count: usize) -> Vec<String> {
    category_urls(zookeeper, service, "providers", |n| n >= count).await
}

/// The URLs under `/dubbo/{service}/{category}`, decoded, once their number satisfies `wanted`
/// (within 10 s).
async fn category_urls(
    zookeeper: &Zookeeper,
    service: &str,
    category: &str,
    wanted: impl Fn(usize) -> bool,
) -> Vec<String> {
    let client = zookeeper_client::Client::connect(&format!("127.0.0.1:{}", zookeeper.port)).await.unwrap();
    let path = format!("/dubbo/{service}/{category}");
    let mut seen = 0;
    for _ in 0..200 {
        let children = match client.get_children(&path).await {
            Ok((children, _)) => children,
            Err(_) => Vec::new(),
        };
        seen = children.len();
        if wanted(seen) {
            return children
                .iter()
                .map(|c| percent_encoding::percent_decode_str(c).decode_utf8().unwrap().to_string())
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{path} still has {seen} nodes after 10 s");
}

fn param<'a>(url: &'a str, key: &str) -> Option<&'a str> {
    let query = url.split_once('?')?.1;
    query.split('&').filter_map(|p| p.split_once('=')).find(|(k, _)| *k == key).map(|(_, v)| v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_dubbo_consumers_find_an_rpc_provider_in_zookeeper() {
    let zookeeper = Zookeeper::start();
    let (addr, _stop) = provider(&zookeeper).await;
    let urls = provider_urls(&zookeeper, SERVICE, 3).await;
    let url = |scheme: &str| {
        urls.iter()
            .find(|u| u.starts_with(&format!("{scheme}://{addr}/")))
            .unwrap_or_else(|| panic!("no {scheme}:// in {urls:?}"))
    };
    // What a Java 3.3 consumer matches and merges, on both of Dubbo's protocols.
    for scheme in ["tri", "dubbo"] {
        let url = url(scheme);
        assert_eq!(param(url, "interface"), Some(SERVICE), "{url}");
        assert_eq!(param(url, "side"), Some("provider"));
        assert_eq!(param(url, "application"), Some("rust-greetings"));
        assert_eq!(param(url, "dubbo"), Some("2.0.2"));
        assert_eq!(param(url, "version"), Some("1.0.0"));
        assert_eq!(param(url, "deprecated"), Some("false"));
        assert_eq!(param(url, "dynamic"), Some("true"));
        assert!(param(url, "release").is_some() && param(url, "timestamp").is_some(), "{url}");
        let methods = param(url, "methods").unwrap();
        assert!(methods.contains("sayHi") && methods.contains("add"), "{methods}");
        // The service declares Hessian2, and that is what both protocols carry.
        assert_eq!(param(url, "serialization"), Some("hessian2"));
        assert_eq!(param(url, "prefer.serialization"), Some("hessian2"));
    }
    assert_eq!(param(url("rpc"), "serialization"), Some("hessian2"), "the declared serialization, not msgpack");

    let zk = format!("127.0.0.1:{}", zookeeper.port);
    let dubbo2 = common::python::run_cases("dubbo2_client.py", &["zookeeper", &zk], Duration::from_secs(60)).await;
    assert_eq!(dubbo2["hello"]["ok"], "Hi, python", "{:?}", dubbo2["hello"]);
    assert_eq!(dubbo2["unicode"]["ok"], "Hi, héllo 世界");
    assert_eq!(dubbo2["add"]["ok"], 5);

    let port = zookeeper.port.to_string();
    let triple = common::python::run_cases("dubbo_triple.py", &["consumer", &port], Duration::from_secs(60)).await;
    assert_eq!(triple["raw_protobuf"]["ok"], "Hi, python", "{:?}", triple["raw_protobuf"]);
    let wrapped = &triple["wrapper"]["ok"];
    assert_eq!(wrapped["value"], 5, "{:?}", triple["wrapper"]);
    assert_eq!(wrapped["serializeType"], "hessian4", "the wrapper's serializeType comes back");
    assert_eq!(wrapped["type"], "int", "the declared return type, as Java names it");
}

/// Dubbo's Python sample service, as our consumer declares it: raw protobuf on Triple.
#[rpc::service(name = "org.apache.dubbo.samples.python.Echo", serialization = "protobuf")]
pub trait PythonEcho {
    #[rpc(name = "sayHi")]
    async fn say_hi(&self, name: String) -> Result<String, Status>;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rpc_consumer_calls_a_python_dubbo_provider_found_in_zookeeper() {
    let zookeeper = Zookeeper::start();
    let port = free_port();
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/dubbo_triple.py");
    let mut python = tokio::process::Command::new(common::python::python())
        .arg(script)
        .args(["provider", &zookeeper.port.to_string(), &port.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the Python provider");
    let mut started = BufReader::new(python.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), started.next_line()).await.expect("it starts").unwrap();
    assert!(line.is_some_and(|l| l.contains("started")));
    // Python registers `tri://host:port?service=…`: no path, one parameter.
    let urls = provider_urls(&zookeeper, "org.apache.dubbo.samples.python.Echo", 1).await;
    assert!(urls[0].starts_with(&format!("tri://127.0.0.1:{port}")), "{urls:?}");

    let registry = rpc::registry::connect(&zookeeper.url()).await.unwrap();
    let channel =
        Channel::builder().registry(registry, &PYTHON_ECHO_DESCRIPTOR).timeout(Duration::from_secs(5)).build().unwrap();
    assert!(channel.directory().unwrap().wait_for(1, Duration::from_secs(10)).await, "the provider is found");
    assert_eq!(channel.endpoints()[0].protocol, Protocol::Grpc, "tri:// is called over Triple");
    let reply = PythonEchoClient::new(channel).say_hi("rust".into()).await.expect("the Python provider answers");
    assert_eq!(reply, "Hi from python, rust");
    drop(python);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rpc_consumer_picks_among_the_protocols_a_provider_registered() {
    let zookeeper = Zookeeper::start();
    let (addr, _stop) = provider(&zookeeper).await;
    provider_urls(&zookeeper, SERVICE, 3).await;
    let consumer = |protocol: Option<Protocol>| {
        let zookeeper_url = zookeeper.url();
        async move {
            let registry = rpc::registry::connect(&zookeeper_url).await.unwrap();
            let mut builder =
                Channel::builder().registry(registry, &GREETINGS_SERVICE_DESCRIPTOR).timeout(Duration::from_secs(5));
            if let Some(protocol) = protocol {
                builder = builder.protocol(protocol);
            }
            let channel = builder.build().unwrap();
            assert!(channel.directory().unwrap().wait_for(1, Duration::from_secs(10)).await);
            channel
        }
    };
    // Three registrations at one address are one endpoint, over our own protocol.
    let channel = consumer(None).await;
    assert_eq!(channel.endpoints().len(), 1);
    assert_eq!(channel.endpoints()[0].protocol, Protocol::Binary);
    assert_eq!(GreetingsServiceClient::new(channel.clone()).add(2, 2).await.unwrap(), 4);
    // The consumer registered itself as Dubbo's consumers do, and withdraws when it goes.
    let consumers = category_urls(&zookeeper, SERVICE, "consumers", |n| n == 1).await;
    let url = &consumers[0];
    assert!(url.starts_with("consumer://"), "{url}");
    assert_eq!((param(url, "side"), param(url, "category")), (Some("consumer"), Some("consumers")));
    assert_eq!(param(url, "interface"), Some(SERVICE));
    assert!(param(url, "methods").is_some_and(|m| m.contains("sayHi")) && param(url, "application").is_some(), "{url}");
    drop(channel);
    category_urls(&zookeeper, SERVICE, "consumers", |n| n == 0).await;
    let channel = consumer(Some(Protocol::Dubbo)).await;
    assert_eq!(channel.endpoints()[0].protocol, Protocol::Dubbo);
    assert_eq!(GreetingsServiceClient::new(channel).say_hi("over dubbo2".into()).await.unwrap(), "Hi, over dubbo2");

    // A provider known only as dubbo:// (as a Java one is: here it is ours, registered under a
    // name of its own) is called over dubbo2, and a call made in msgpack is re-encoded as
    // Hessian2 on the way and back, structs included.
    let registry = rpc::registry::connect(&zookeeper.url()).await.unwrap();
    let mut java_like = Instance::new("test.JavaOnly", addr.to_string()).version("1.0.0");
    java_like.protocol = "dubbo".into();
    registry.register(java_like).await.unwrap();
    let channel =
        Channel::builder().registry(registry, "test.JavaOnly").timeout(Duration::from_secs(5)).build().unwrap();
    assert!(channel.directory().unwrap().wait_for(1, Duration::from_secs(10)).await);
    assert_eq!(channel.endpoints()[0].protocol, Protocol::Dubbo);
    let msgpack = GreetingsServiceClient::new(channel).with_options(rpc::CallOptions::new());
    assert_eq!(msgpack.options().get_serialization(), rpc::SerializationId::MsgPack);
    assert_eq!(msgpack.say_hi("msgpack".into()).await.unwrap(), "Hi, msgpack");
    let user = common::greetings::User {
        name: "cy".into(),
        age: 9,
        tags: vec!["t".into()],
        score: 0.25,
        admin: true,
        id: -3,
        nickname: None,
    };
    let greeted = msgpack.greet_user(user).await.unwrap();
    assert_eq!((greeted.age, greeted.tags.len(), greeted.nickname), (10, 2, None));
}
