//! Registries that check who writes to them, for real: ZooKeeper with a digest user (our
//! nodes get Dubbo's creator-only ACL, so others can neither read nor change them) and etcd
//! with authentication on and TLS.

mod common;

use std::time::Duration;

use common::servers::{Etcd, Zookeeper};
use common::tls::TestPki;
use common::{EchoClient, EchoImpl, EchoServer};

/// A provider of `test.Echo` registered through `url`; its task serves until dropped.
async fn provider(url: &str) -> tokio::task::JoinHandle<std::io::Result<()>> {
    let registry = rpc::registry::connect(url).await.expect("the provider reaches the registry");
    let bound = rpc::Server::builder()
        .registry(registry)
        .add_service(EchoServer::new(EchoImpl::default()))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    tokio::spawn(bound.serve())
}

/// A consumer that finds `test.Echo` through `url` calls it, once the provider's
/// registration has arrived (within 20 s).
async fn consumer_calls(url: &str) {
    let registry = rpc::registry::connect(url).await.expect("the consumer reaches the registry");
    let channel =
        rpc::Channel::builder().registry(registry, "test.Echo").timeout(Duration::from_secs(10)).build().unwrap();
    let client = EchoClient::new(channel);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match client.echo("through an authenticated registry".into()).await {
            Ok(echoed) => return assert_eq!(echoed, "through an authenticated registry"),
            Err(e) => assert!(tokio::time::Instant::now() < deadline, "never called through {url}: {e:?}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zookeeper_nodes_of_a_digest_user_are_that_users_alone() {
    let zookeeper = Zookeeper::start();
    let url = format!("zookeeper://alice:s3cret@127.0.0.1:{}?session=2s", zookeeper.port);
    let _provider = provider(&url).await;
    consumer_calls(&url).await;

    let providers = "/dubbo/test.Echo/providers";
    let anonymous = zookeeper_client::Client::connect(&format!("127.0.0.1:{}", zookeeper.port)).await.unwrap();
    let read = anonymous.list_children(providers).await;
    assert!(matches!(read, Err(zookeeper_client::Error::NoAuth)), "an anonymous client read the providers: {read:?}");
    let write = anonymous.set_data(providers, b"x", None).await;
    assert!(matches!(write, Err(zookeeper_client::Error::NoAuth)), "an anonymous client wrote: {write:?}");

    // Another user is refused too; the same user (a consumer with Dubbo's URL) reads them.
    let mut connector = zookeeper_client::Client::connector();
    connector.auth("digest".to_string(), b"mallory:guess".to_vec());
    let mallory = connector.connect(&format!("127.0.0.1:{}", zookeeper.port)).await.unwrap();
    assert!(matches!(mallory.list_children(providers).await, Err(zookeeper_client::Error::NoAuth)));
    let mut connector = zookeeper_client::Client::connector();
    connector.auth("digest".to_string(), b"alice:s3cret".to_vec());
    let alice = connector.connect(&format!("127.0.0.1:{}", zookeeper.port)).await.unwrap();
    assert!(!alice.list_children(providers).await.unwrap().is_empty());
    let (acl, _) = alice.get_acl(providers).await.unwrap();
    let ids: Vec<String> = acl.iter().map(|a| format!("{}:{}", a.auth_id().scheme(), a.auth_id().id())).collect();
    assert!(ids.len() == 1 && ids[0].starts_with("digest:alice:"), "creator-only ACL: {ids:?}");
}

#[cfg(feature = "etcd")] // needs protoc to build; the test command enables it
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_with_authentication_and_tls_needs_both() {
    let pki = TestPki::new();
    let etcd = Etcd::start_tls(&pki.path("server.pem"), &pki.path("server.key"));
    etcd.enable_auth("r00t-pw");
    let port = etcd.tls_port.expect("a TLS port");
    let ca = pki.path("ca.pem");
    let url = format!("etcd://root:r00t-pw@127.0.0.1:{port}?ttl=2s&ca={}", ca.display());
    let _provider = provider(&url).await;
    consumer_calls(&url).await;

    // The provider's key is there (read with the same credentials).
    let registry = rpc::registry::connect(&url).await.unwrap();
    let mut found = registry.subscribe("test.Echo").await.unwrap();
    let set = tokio::time::timeout(Duration::from_secs(10), futures_util::StreamExt::next(&mut found)).await.unwrap();
    // One registration per protocol the port speaks, all of the one provider.
    let set = set.expect("a set");
    assert!(
        !set.instances.is_empty() && set.instances.iter().all(|i| i.address == set.instances[0].address),
        "{set:?}"
    );

    let refused = |url: String| async move {
        let registry = match rpc::registry::connect(&url).await {
            Err(e) => return e.to_string(),
            Ok(registry) => registry,
        };
        let instance = rpc::registry::Instance::new("test.Intruder", "127.0.0.1:1");
        match tokio::time::timeout(Duration::from_secs(10), registry.register(instance)).await {
            Ok(Err(e)) => e.to_string(),
            Ok(Ok(())) => panic!("{url} registered"),
            Err(_) => "timed out".to_string(),
        }
    };
    let wrong_password = refused(format!("etcd://root:guess@127.0.0.1:{port}?ca={}", ca.display())).await;
    let no_user = refused(format!("etcd://127.0.0.1:{port}?ca={}", ca.display())).await;
    let no_tls = refused(format!("etcd://root:r00t-pw@127.0.0.1:{port}")).await;
    assert!(wrong_password.contains("authentication failed"), "{wrong_password}");
    assert!(no_user.contains("did not take the registration"), "{no_user}");
    assert!(no_tls.contains("unavailable"), "{no_tls}");
}
