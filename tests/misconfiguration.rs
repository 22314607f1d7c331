//! Settings that cannot work fail loudly: at build time when the channel knows its service's
//! descriptor, as a warning on the first call when it does not, and in the error of a call
//! that finds no provider.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rpc::cluster::{Balance, HashKey, MethodConfig};
use rpc::registry::{Instance, MemoryRegistry, Registry};
use rpc::{Channel, Code, Status};

#[rpc::service(name = "test.Kv")]
pub trait Kv {
    #[rpc(idempotent)]
    async fn get(&self, key: String) -> Result<Option<String>, Status>;
    async fn put(&self, key: String, value: String) -> Result<(), Status>;
}

struct MemoryKv;

impl Kv for MemoryKv {
    async fn get(&self, key: String) -> Result<Option<String>, Status> {
        Ok(Some(key))
    }
    async fn put(&self, _key: String, _value: String) -> Result<(), Status> {
        Ok(())
    }
}

fn hash_on(index: usize) -> MethodConfig {
    MethodConfig::new().balance(Balance::ConsistentHash { key: HashKey::Arg(index), vnodes: 160 })
}

fn build_error(builder: rpc::ChannelBuilder) -> Status {
    builder.build().expect_err("the channel should refuse these settings")
}

#[tokio::test]
async fn with_the_descriptor_bad_settings_fail_the_build() {
    let endpoints = ["127.0.0.1:1"];
    let wrong_case = Channel::builder().endpoints(endpoints).service(&KV_DESCRIPTOR).method("Get", MethodConfig::new());
    let status = build_error(wrong_case);
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("test.Kv has no method \"Get\" (it has: get, put); did you mean \"get\"?"),
        "{status}"
    );

    let no_such_argument = Channel::builder().endpoints(endpoints).service(&KV_DESCRIPTOR).method("get", hash_on(5));
    let status = build_error(no_such_argument);
    assert!(
        status.message().contains("HashKey::Arg(5) names no argument of test.Kv/get: it takes 1 argument (key)"),
        "{status}"
    );

    // The descriptor given to registry() names the providers and checks the settings.
    let registry: Arc<dyn Registry> = Arc::new(MemoryRegistry::new());
    let typo = Channel::builder().registry(registry.clone(), "test.Kvv").service(&KV_DESCRIPTOR);
    let status = build_error(typo);
    assert!(
        status.message().contains("looks up providers of \"test.Kvv\" in the registry, but calls test.Kv"),
        "{status}"
    );
    let fine = Channel::builder().registry(registry, &KV_DESCRIPTOR).method("put", hash_on(1)).build();
    assert!(fine.is_ok(), "{:?}", fine.err());
}

#[tokio::test]
async fn a_direct_channel_refuses_cluster_settings() {
    let status = Channel::builder()
        .load_balance(Balance::RoundRobin)
        .method("get", MethodConfig::new().timeout(Duration::from_secs(1)))
        .connect("127.0.0.1:1")
        .await
        .expect_err("connect() cannot honour a balancer or per-method settings");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("load_balance, method apply to cluster channels only"), "{status}");
}

#[tokio::test]
async fn a_registry_name_nobody_registered_is_named_in_the_error() {
    let registry = Arc::new(MemoryRegistry::new());
    registry.register(Instance::new("test.Kv", "127.0.0.1:1")).await.unwrap();
    let channel = Channel::builder().registry(registry, "test.Kvv").timeout(Duration::from_secs(5)).build().unwrap();
    let status = KvClient::new(channel).get("k".into()).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert!(
        status.message().contains("no provider of test.Kv is known (the registry's \"test.Kvv\" lists none)"),
        "{status}"
    );
}

/// What was logged at WARN while `run` ran on this thread.
async fn warnings_of<F: std::future::Future<Output = ()>>(run: F) -> String {
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    run.await;
    let logged = buffer.0.lock().unwrap().clone();
    String::from_utf8(logged).unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn without_the_descriptor_the_first_call_warns_once() {
    let mut addresses = Vec::new();
    for _ in 0..2 {
        let bound = rpc::Server::builder().add_service(KvServer::new(MemoryKv)).bind("127.0.0.1:0").await.unwrap();
        addresses.push(bound.local_addr().unwrap().to_string());
        tokio::spawn(bound.serve());
    }
    let channel = Channel::builder()
        .endpoints(&addresses)
        .method("Get", MethodConfig::new().timeout(Duration::from_secs(1)))
        .method("put", hash_on(7))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("without a descriptor nothing is known to be wrong yet");
    let client = KvClient::new(channel);
    let logged = warnings_of(async {
        for _ in 0..3 {
            assert_eq!(client.get("k".into()).await.unwrap().as_deref(), Some("k"));
            client.put("k".into(), "v".into()).await.unwrap();
        }
    })
    .await;
    assert_eq!(logged.matches("test.Kv has no method \"Get\"").count(), 1, "{logged}");
    assert_eq!(logged.matches("HashKey::Arg(7) names no argument of test.Kv/put").count(), 1, "{logged}");
    // The hash key the calls lack: placed at random (between two providers), said once.
    assert_eq!(logged.matches("consistent hashing: the call carries no such key").count(), 1, "{logged}");
}
