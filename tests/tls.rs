//! TLS and mutual TLS on every protocol of one port, against real peers: our own consumer
//! over the binary protocol, gRPC and dubbo2; Python's grpcio with TLS credentials;
//! dubbo-ssl-python's SSL mode; `openssl s_client`; `curl` over HTTPS. Certificates are made
//! at test time (rcgen). Also: a client without a certificate, or with one from another CA,
//! is refused under mutual TLS; plaintext is refused unless allowed; renewed certificate
//! files are served without a restart while open connections keep working.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::greeter::{GreeterImpl, GreeterServer};
use common::greetings::{Greetings, GreetingsServiceClient, GreetingsServiceServer};
use common::tls::{TestCa, TestPki};
use rpc::tls::{ClientAuth, ClientTls, ServerTls};
use rpc::{CallContext, Protocol, Status};

/// Answers the names in the caller's verified certificate (empty without one).
#[rpc::service(name = "test.Whoami")]
pub trait Whoami {
    async fn whoami(&self) -> Result<Vec<String>, Status>;
}

#[derive(Clone)]
struct WhoamiImpl;

impl Whoami for WhoamiImpl {
    async fn whoami(&self) -> Result<Vec<String>, Status> {
        let context = CallContext::current().ok_or_else(|| Status::internal("no call context"))?;
        Ok(context.peer_identity.map(|id| id.names().map(str::to_string).collect()).unwrap_or_default())
    }
}

/// A provider of `Whoami`, `GreetingsService` and `Greeter` with `tls`, on a free loopback port.
async fn provider(tls: ServerTls) -> (SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>) {
    let bound = rpc::Server::builder()
        .tls(tls)
        .add_service(WhoamiServer::new(WhoamiImpl))
        .add_service(GreetingsServiceServer::new(Greetings::default()))
        .add_service(GreeterServer::new(GreeterImpl::default()))
        .bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = bound.local_addr().expect("addr");
    (addr, tokio::spawn(bound.serve()))
}

fn mutual_tls(pki: &TestPki) -> ServerTls {
    ServerTls::from_pem_files(pki.path("server.pem"), pki.path("server.key"))
        .client_ca(pki.path("ca.pem"))
        .build()
        .expect("server TLS")
}

fn client_with_cert(pki: &TestPki) -> ClientTls {
    ClientTls::with_ca_file(pki.path("ca.pem"))
        .client_cert(pki.path("client.pem"), pki.path("client.key"))
        .build()
        .expect("client TLS")
}

async fn whoami(addr: SocketAddr, protocol: Protocol, tls: ClientTls) -> Result<Vec<String>, Status> {
    let channel = rpc::Channel::builder()
        .protocol(protocol)
        .tls(tls)
        .connect_timeout(Duration::from_secs(5))
        .connect(addr)
        .await?;
    WhoamiClient::new(channel).whoami().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_protocol_runs_over_mutual_tls_and_the_handler_sees_the_callers_identity() {
    let pki = TestPki::new();
    let (addr, _server) = provider(mutual_tls(&pki)).await;
    let expected = ["billing.internal", "spiffe://example.org/billing", "CN=billing"];
    for protocol in [Protocol::Binary, Protocol::Grpc, Protocol::Dubbo] {
        let names = whoami(addr, protocol, client_with_cert(&pki)).await;
        assert_eq!(names.expect("call over mutual TLS"), expected, "{protocol:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_refuses_clients_without_a_trusted_certificate_and_serves_on() {
    let pki = TestPki::new();
    let (addr, _server) = provider(mutual_tls(&pki)).await;
    // No certificate at all.
    let anonymous = ClientTls::with_ca_file(pki.path("ca.pem")).build().unwrap();
    // A certificate from a CA the provider does not trust.
    let stranger = TestCa::new("another CA");
    let (cert, key) = stranger.issue("intruder", &["billing.internal"]);
    pki.files.write("stranger.pem", &cert);
    pki.files.write("stranger.key", &key);
    let untrusted = ClientTls::with_ca_file(pki.path("ca.pem"))
        .client_cert(pki.path("stranger.pem"), pki.path("stranger.key"))
        .build()
        .unwrap();
    for protocol in [Protocol::Binary, Protocol::Grpc, Protocol::Dubbo] {
        for (who, tls) in [("no certificate", anonymous.clone()), ("another CA's certificate", untrusted.clone())] {
            let refused = whoami(addr, protocol, tls).await;
            assert!(refused.is_err(), "{protocol:?} with {who} was served: {refused:?}");
        }
    }
    // Plaintext is refused too: TLS is required on this port.
    let plaintext = rpc::Channel::builder().connect_timeout(Duration::from_secs(5)).connect(addr).await;
    assert!(plaintext.is_err(), "a plaintext client was served");
    // A client that trusts another CA refuses the provider.
    pki.files.write("stranger-ca.pem", stranger.pem());
    let distrustful = ClientTls::with_ca_file(pki.path("stranger-ca.pem"))
        .client_cert(pki.path("client.pem"), pki.path("client.key"))
        .build()
        .unwrap();
    let refused = whoami(addr, Protocol::Binary, distrustful).await.expect_err("the provider's CA is not trusted");
    assert!(refused.message().contains("TLS handshake"), "{refused:?}");
    // Everyone else is still served.
    assert!(whoami(addr, Protocol::Binary, client_with_cert(&pki)).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_port_serves_tls_and_plaintext_when_allowed() {
    let pki = TestPki::new();
    let tls = ServerTls::from_pem_files(pki.path("server.pem"), pki.path("server.key"))
        .client_ca(pki.path("ca.pem"))
        .client_auth(ClientAuth::Optional)
        .allow_plaintext(true)
        .build()
        .unwrap();
    let (addr, _server) = provider(tls).await;
    let plaintext = rpc::Channel::builder().connect(addr).await.expect("plaintext is allowed");
    assert_eq!(WhoamiClient::new(plaintext).whoami().await.unwrap(), Vec::<String>::new());
    let anonymous = ClientTls::with_ca_file(pki.path("ca.pem")).build().unwrap();
    assert_eq!(whoami(addr, Protocol::Grpc, anonymous).await.unwrap(), Vec::<String>::new(), "optional client auth");
    assert_eq!(whoami(addr, Protocol::Grpc, client_with_cert(&pki)).await.unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewed_certificate_files_are_served_without_a_restart() {
    let pki = TestPki::new();
    let tls = ServerTls::from_pem_files(pki.path("server.pem"), pki.path("server.key"))
        .reload_check_interval(Duration::from_millis(100))
        .build()
        .unwrap();
    let (addr, _server) = provider(tls).await;
    let old_client = rpc::Channel::builder()
        .tls(ClientTls::with_ca_file(pki.path("ca.pem")).build().unwrap())
        .connect(addr)
        .await
        .expect("connect with the first certificate");
    let old_client = WhoamiClient::new(old_client);
    old_client.whoami().await.unwrap();

    // The certificate is renewed by another CA; a client trusting only that CA is refused
    // until the files change, then served.
    let renewed = TestCa::new("renewing CA");
    pki.files.write("renewed-ca.pem", renewed.pem());
    let renewed_trust = || ClientTls::with_ca_file(pki.path("renewed-ca.pem")).build().unwrap();
    assert!(whoami(addr, Protocol::Binary, renewed_trust()).await.is_err(), "not renewed yet");
    let (cert, key) = renewed.issue("provider", &["localhost", "127.0.0.1"]);
    pki.files.write("server.key", &key);
    pki.files.write("server.pem", &cert);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match whoami(addr, Protocol::Binary, renewed_trust()).await {
            Ok(_) => break,
            Err(e) => assert!(tokio::time::Instant::now() < deadline, "renewed certificate never served: {e:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The connection opened before the renewal is untouched.
    old_client.whoami().await.expect("an open connection survives the reload");
    // A bad file is not loaded; the last good certificate is kept.
    pki.files.write("server.pem", "not a certificate");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(whoami(addr, Protocol::Binary, renewed_trust()).await.is_ok(), "kept the last good certificate");
}

/// `openssl s_client` negotiates ALPN `h2` and verifies the provider; with `rpc-binary` it
/// gets the binary protocol's id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_s_client_verifies_the_provider_and_agrees_on_alpn() {
    let pki = TestPki::new();
    let (addr, _server) = provider(mutual_tls(&pki)).await;
    for alpn in ["h2", "rpc-binary", "http/1.1"] {
        let output = tokio::time::timeout(
            Duration::from_secs(30),
            tokio::process::Command::new("openssl")
                .args(["s_client", "-connect", &addr.to_string(), "-alpn", alpn, "-verify_return_error"])
                .args(["-CAfile", pki.path("ca.pem").to_str().unwrap()])
                .args(["-cert", pki.path("client.pem").to_str().unwrap()])
                .args(["-key", pki.path("client.key").to_str().unwrap()])
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true)
                .output(),
        )
        .await
        .expect("openssl finishes")
        .expect("run openssl");
        let out = String::from_utf8_lossy(&output.stdout);
        assert!(out.contains(&format!("ALPN protocol: {alpn}")), "{alpn}: {out}");
        assert!(out.contains("Verify return code: 0 (ok)"), "{alpn}: {out}");
    }
}

/// `curl` over HTTPS with a client certificate reaches the JSON (HTTP/1.1) protocol.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_calls_over_https_with_a_client_certificate() {
    let pki = TestPki::new();
    let (addr, _server) = provider(mutual_tls(&pki)).await;
    let url = format!("https://localhost:{}/org.apache.dubbo.samples.api.GreetingsService/sayHi", addr.port());
    let output = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new("curl")
            .args([
                "-sS",
                "--max-time",
                "20",
                "--http1.1",
                "--resolve",
                &format!("localhost:{}:127.0.0.1", addr.port()),
            ])
            .args(["--cacert", pki.path("ca.pem").to_str().unwrap()])
            .args(["--cert", pki.path("client.pem").to_str().unwrap()])
            .args(["--key", pki.path("client.key").to_str().unwrap()])
            .args(["-H", "content-type: application/json", "-d", r#"["https"]"#, &url])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("curl finishes")
    .expect("run curl");
    let body = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "curl failed: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(body, r#""Hi, https""#);
}

/// Python's grpcio (C-core, BoringSSL) with TLS credentials and a client certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_grpcio_client_calls_over_mutual_tls() {
    let pki = TestPki::new();
    let (addr, _server) = provider(mutual_tls(&pki)).await;
    let paths = ["ca.pem", "client.pem", "client.key"].map(|name| pki.path(name).to_string_lossy().into_owned());
    let args = [addr.to_string(), "--tls".into(), paths[0].clone(), paths[1].clone(), paths[2].clone()];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let cases = common::python::run_cases("greeter_client.py", &args, Duration::from_secs(60)).await;
    assert_eq!(cases["hello"]["ok"]["message"], "Hello python", "{:?}", cases["hello"]);
    assert_eq!(cases["fail"]["code"], "FAILED_PRECONDITION");
}

/// dubbo-ssl-python's SSL mode (dubbo2 + Hessian2 over TLS; it has no client certificate,
/// so the provider asks for none).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_dubbo2_client_calls_over_tls() {
    let pki = TestPki::new();
    let tls = ServerTls::from_pem_files(pki.path("server.pem"), pki.path("server.key")).build().unwrap();
    let (addr, _server) = provider(tls).await;
    let ca = pki.path("ca.pem").to_string_lossy().into_owned();
    let cases =
        common::python::run_cases("dubbo2_client.py", &["tls", &addr.to_string(), &ca], Duration::from_secs(60)).await;
    assert_eq!(cases["hello"]["ok"], "Hi, python over TLS", "{:?}", cases["hello"]);
    assert_eq!(cases["add"]["ok"], 5);
    // Our own dubbo2 consumer over TLS, to the same provider.
    let channel = rpc::Channel::builder()
        .protocol(Protocol::Dubbo)
        .tls(ClientTls::with_ca_file(pki.path("ca.pem")).build().unwrap())
        .connect(addr)
        .await
        .expect("dubbo2 over TLS");
    assert_eq!(GreetingsServiceClient::new(channel).say_hi("rust".into()).await.unwrap(), "Hi, rust");
}

/// A TLS provider registers `ssl-enabled=true` (as Dubbo's URL says it); a consumer that
/// finds it in the registry connects to it over TLS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_tls_provider_advertises_it_and_is_called_over_tls() {
    use futures_util::StreamExt;

    let pki = TestPki::new();
    let url = format!("file://{}", pki.files.dir.join("registry").display());
    let registry = rpc::registry::connect(&url).await.unwrap();
    let bound = rpc::Server::builder()
        .tls(mutual_tls(&pki))
        .registry(registry.clone())
        .add_service(WhoamiServer::new(WhoamiImpl))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let _server = tokio::spawn(bound.serve());
    let mut found = registry.subscribe("test.Whoami").await.unwrap();
    let instance = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let set = found.next().await.expect("the registry keeps answering");
            if let Some(instance) = set.instances.first() {
                return instance.clone();
            }
        }
    })
    .await
    .expect("the provider registers");
    assert_eq!(instance.metadata.get("ssl-enabled").map(String::as_str), Some("true"), "{instance:?}");

    let channel = rpc::Channel::builder()
        .registry(registry, "test.Whoami")
        .tls(client_with_cert(&pki))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    assert_eq!(WhoamiClient::new(channel).whoami().await.unwrap().len(), 3);
}
