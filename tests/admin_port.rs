//! The admin port and metrics, end to end: a provider with `.admin(…)` and a
//! `MetricsLayer`, a consumer with its own, and the real `curl` asking the port what a
//! Kubernetes probe, a Prometheus scrape and an operator would.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::{EchoClient, TestServer};
use futures_util::StreamExt;
use rpc::metrics::MetricsLayer;
use rpc::registry::{Instance, MemoryRegistry, Registry};
use tower::Layer;

/// `curl` against the admin port: the status code and the body. It blocks its thread, so
/// the tests run on a multi-threaded runtime where the server keeps the other.
fn curl(url: &str, extra: &[&str]) -> (u16, String) {
    let output = Command::new("curl")
        .args(["--silent", "--max-time", "10", "--write-out", "\n%{http_code}"])
        .args(extra)
        .arg(url)
        .output()
        .expect("curl runs (the test command installs it)");
    let text = String::from_utf8(output.stdout).expect("curl prints UTF-8");
    let (body, code) = text.rsplit_once('\n').expect("curl printed the status code");
    (code.parse().expect("a status code"), body.to_string())
}

/// The value of the series line that starts with `series` (name and labels, as rendered).
fn sample(scrape: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape.lines().filter(|line| line.starts_with(name) && !line.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (series_name, rest) = series.split_once('{').unwrap_or((series, ""));
        let all = series_name == name && labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
        all.then(|| value.parse().ok()).flatten()
    })
}

/// Whether the registry lists the provider at `address`.
async fn listed(registry: &MemoryRegistry, address: &str) -> bool {
    let mut sets = registry.subscribe("test.Echo").await.expect("subscribe");
    let set = tokio::time::timeout(Duration::from_secs(5), sets.next()).await.expect("a set").expect("a set");
    set.instances.iter().any(|instance| instance.address == address)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_metrics_services_and_offline_over_curl() {
    let registry = Arc::new(MemoryRegistry::new());
    let (server, admin) =
        common::admin::provider_with_admin(|builder| builder.layer(MetricsLayer::server()).registry(registry.clone()))
            .await;
    let address = server.addr.to_string();

    // Startup and readiness follow registration; liveness holds throughout.
    assert_eq!(curl(&format!("{admin}/live"), &[]), (200, "live\n".into()));
    assert_eq!(curl(&format!("{admin}/ready"), &[]), (200, "ready\n".into()));
    assert!(listed(&registry, &address).await);

    // Calls through a measured consumer: both sides count them.
    let channel = rpc::Channel::connect(server.addr).await.expect("connect");
    let client = EchoClient::new(MetricsLayer::client().layer(channel));
    for n in 0..7 {
        assert_eq!(client.add(n, 1).await.expect("add"), n + 1);
    }
    let failed = client.fail("on purpose".into()).await.expect_err("fail fails");
    let (code, scrape) = curl(&format!("{admin}/metrics"), &[]);
    assert_eq!(code, 200);
    let ok = [("service", "test.Echo"), ("method", "add"), ("code", "OK")];
    assert_eq!(sample(&scrape, "rpc_server_requests_total", &ok), Some(7.0), "{scrape}");
    assert_eq!(sample(&scrape, "rpc_client_requests_total", &ok), Some(7.0), "{scrape}");
    let failed_code = format!("{:?}", failed.code());
    assert!(
        scrape.lines().any(|l| l.starts_with("rpc_server_requests_total") && l.contains("method=\"fail\"")),
        "the failed call ({failed_code}) is counted: {scrape}"
    );
    let add = [("service", "test.Echo"), ("method", "add")];
    assert_eq!(sample(&scrape, "rpc_server_request_duration_seconds_count", &add), Some(7.0), "{scrape}");
    assert_eq!(sample(&scrape, "rpc_server_requests_in_flight", &add), Some(0.0), "{scrape}");
    assert!(sample(&scrape, "rpc_server_connections_open", &[]).is_some_and(|open| open >= 1.0), "{scrape}");
    assert!(
        scrape.contains(
            "rpc_server_request_duration_seconds_bucket{service=\"test.Echo\",method=\"add\",le=\"0.00005\"}"
        ),
        "durations land in buckets from 50 µs: {scrape}"
    );

    // The hosted services, as JSON.
    let (code, services) = curl(&format!("{admin}/services"), &[]);
    assert_eq!(code, 200);
    let services: serde_json::Value = serde_json::from_str(&services).expect("JSON");
    assert_eq!(services["online"], true);
    let echo =
        services["services"].as_array().and_then(|s| s.iter().find(|s| s["name"] == "test.Echo")).expect("test.Echo");
    assert_eq!(echo["version"], "1.0.0");
    let add = echo["methods"].as_array().and_then(|m| m.iter().find(|m| m["name"] == "add")).expect("add");
    assert_eq!((add["arguments"].clone(), add["idempotent"].clone()), (serde_json::json!(["a", "b"]), true.into()));

    // Offline: out of the registry and not ready, still answering; online: back.
    assert_eq!(curl(&format!("{admin}/offline"), &[]), (200, "OK\n".into()));
    assert_eq!(curl(&format!("{admin}/offline"), &[]), (200, "already offline\n".into()));
    assert!(!listed(&registry, &address).await, "offline deregisters");
    assert_eq!(curl(&format!("{admin}/ready"), &[]), (503, "offline\n".into()));
    assert_eq!(curl(&format!("{admin}/live"), &[]).0, 200);
    assert_eq!(client.add(1, 1).await.expect("an offline provider still serves"), 2);
    assert_eq!(curl(&format!("{admin}/online"), &["-X", "POST"]), (200, "OK\n".into()));
    assert!(listed(&registry, &address).await, "online registers again");
    assert_eq!(curl(&format!("{admin}/ready"), &[]).0, 200);

    // Bad requests get clear answers.
    let (code, body) = curl(&format!("{admin}/nope"), &[]);
    assert_eq!(code, 404);
    assert!(body.contains("/metrics"), "{body}");
    assert_eq!(curl(&format!("{admin}/live"), &["-X", "DELETE"]).0, 405);

    server.shutdown().await;
    let (code, _) = curl(&format!("{admin}/live"), &[]);
    assert_eq!(code, 0, "the admin port closes with the server (curl could not connect)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_guards_everything_but_the_probes() {
    let (server, admin) = common::admin::provider_with_admin(|builder| builder.admin_token("s3cret")).await;
    assert_eq!(curl(&format!("{admin}/ready"), &[]).0, 200, "probes need no token");
    for path in ["/metrics", "/services", "/offline"] {
        let (code, body) = curl(&format!("{admin}{path}"), &[]);
        assert_eq!(code, 401, "{path} without the token");
        assert!(body.contains("Bearer"), "{body}");
        assert_eq!(curl(&format!("{admin}{path}"), &["-H", "Authorization: Bearer wrong"]).0, 401);
    }
    assert_eq!(curl(&format!("{admin}/services"), &["-H", "Authorization: Bearer s3cret"]).0, 200);
    assert_eq!(curl(&format!("{admin}/ready"), &[]).0, 200, "the refused /offline changed nothing");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_channel_reports_its_endpoints_and_discovery() {
    let prometheus = rpc::metrics::install_prometheus().expect("the test binary's recorder");
    let registry = Arc::new(MemoryRegistry::new());
    let providers = [TestServer::start().await, TestServer::start().await];
    for provider in &providers {
        registry
            .register(Instance::new("test.Echo", provider.addr.to_string()).version("1.0.0"))
            .await
            .expect("register");
    }
    let channel = rpc::Channel::builder().registry(registry.clone(), "test.Echo").build().expect("channel");
    let directory = channel.directory().expect("a cluster channel").clone();
    assert!(directory.wait_for(2, Duration::from_secs(5)).await);
    assert!(rpc::metrics::observe_endpoints(&channel, Duration::from_millis(20)));
    let client = EchoClient::new(channel);
    for n in 0..10 {
        assert_eq!(client.add(n, 1).await.expect("add"), n + 1);
    }
    // The observer's next tick, with a wide margin.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let scrape = loop {
        let scrape = prometheus.render();
        let calls: f64 = scrape
            .lines()
            .filter(|l| l.starts_with("rpc_client_endpoint_calls_total{service=\"test.Echo\""))
            .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
            .sum();
        if calls >= 10.0 || tokio::time::Instant::now() > deadline {
            break scrape;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let echo = [("service", "test.Echo")];
    assert_eq!(sample(&scrape, "rpc_client_endpoints", &echo), Some(2.0), "{scrape}");
    assert_eq!(sample(&scrape, "rpc_registry_instances", &echo), Some(2.0), "{scrape}");
    assert!(sample(&scrape, "rpc_registry_events_total", &echo).is_some_and(|n| n >= 1.0), "{scrape}");
    assert!(sample(&scrape, "rpc_registry_subscriptions", &[]).is_some_and(|n| n >= 1.0), "{scrape}");
    assert!(
        sample(&scrape, "rpc_registry_last_update_timestamp_seconds", &echo).is_some_and(|t| t > 1.7e9),
        "{scrape}"
    );
    for provider in &providers {
        let labels = [("service", "test.Echo"), ("endpoint", &*provider.addr.to_string())];
        assert_eq!(sample(&scrape, "rpc_client_endpoint_breaker_state", &labels), Some(0.0), "closed: {scrape}");
        assert_eq!(sample(&scrape, "rpc_client_endpoint_connected", &labels), Some(1.0), "{scrape}");
        assert_eq!(sample(&scrape, "rpc_client_endpoint_in_flight", &labels), Some(0.0), "{scrape}");
    }
    let calls: f64 = providers
        .iter()
        .filter_map(|p| {
            let address = p.addr.to_string();
            sample(&scrape, "rpc_client_endpoint_calls_total", &[("service", "test.Echo"), ("endpoint", &address)])
        })
        .sum();
    assert_eq!(calls, 10.0, "every call was balanced to one of the two: {scrape}");
}
