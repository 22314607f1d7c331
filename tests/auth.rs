//! Who may call what, end to end: Dubbo's token against a real dubbo2 client
//! (dubbo-ssl-python) and through a registry; JWT bearer tokens on every protocol; and
//! authorization rules by JWT subject and by mutual-TLS identity. Every refusal is
//! answered without running the handler.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::greetings::{Greetings, GreetingsServiceClient, GreetingsServiceServer};
use common::tls::TestPki;
use rpc::auth::{AuthenticateLayer, AuthorizeLayer, JwtAuthenticator, Rules};
use rpc::tls::{ClientTls, ServerTls};
use rpc::{CallContext, CallOptions, Code, Protocol, Status};

const SECRET: &[u8] = b"a secret of at least 32 bytes....";

/// Says who called; `reset` is the method rules keep for admins. Counts the calls it ran.
#[rpc::service(name = "test.Account")]
pub trait Account {
    async fn whoami(&self) -> Result<String, Status>;
    async fn reset(&self) -> Result<(), Status>;
}

#[derive(Clone, Default)]
struct AccountImpl {
    ran: Arc<AtomicUsize>,
}

impl Account for AccountImpl {
    async fn whoami(&self) -> Result<String, Status> {
        self.ran.fetch_add(1, Ordering::SeqCst);
        let context = CallContext::current().ok_or_else(|| Status::internal("no call context"))?;
        let subject = context.principal.map(|p| p.subject.clone());
        let certificate = context.peer_identity.and_then(|id| id.dns_names.first().cloned());
        Ok(subject.or(certificate).unwrap_or_else(|| "anonymous".into()))
    }
    async fn reset(&self) -> Result<(), Status> {
        self.ran.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn jwt(subject: &str, secret: &[u8]) -> String {
    let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 600;
    let claims = serde_json::json!({"sub": subject, "iss": "test-issuer", "exp": exp});
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(secret))
        .unwrap()
}

async fn account(addr: SocketAddr, protocol: Protocol, bearer: Option<&str>) -> AccountClient {
    let channel = rpc::Channel::builder().protocol(protocol).connect(addr).await.expect("connect");
    let mut options = CallOptions::new();
    if let Some(token) = bearer {
        options = options.attachment("authorization", format!("Bearer {token}"));
    }
    AccountClient::new(channel).with_options(options)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_bearer_tokens_authenticate_and_rules_authorize_on_every_protocol() {
    let service = AccountImpl::default();
    let rules = Rules::new().allow("test.Account", "whoami", ["*"]).allow("test.Account", "reset", ["admin"]);
    let bound = rpc::Server::builder()
        // The last layer added sees a call first: authenticate, then authorize.
        .layer(AuthorizeLayer::new(rules))
        .layer(AuthenticateLayer::new(JwtAuthenticator::hs256(SECRET).issuer("test-issuer")))
        .add_service(AccountServer::new(service.clone()))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = bound.local_addr().unwrap();
    let _server = tokio::spawn(bound.serve());
    let (alice, admin, forged) =
        (jwt("alice", SECRET), jwt("admin", SECRET), jwt("admin", b"not the provider's secret, 32 b."));
    for protocol in [Protocol::Binary, Protocol::Grpc, Protocol::Dubbo] {
        let ran = service.ran.load(Ordering::SeqCst);
        assert_eq!(account(addr, protocol, Some(&alice)).await.whoami().await.unwrap(), "alice", "{protocol:?}");
        let denied = account(addr, protocol, Some(&alice)).await.reset().await.unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied, "{protocol:?}: {denied:?}");
        assert!(denied.message().contains("alice may not call test.Account/reset"), "{denied:?}");
        account(addr, protocol, Some(&admin)).await.reset().await.expect("admin may reset");
        for (case, bearer) in [("no token", None), ("a forged token", Some(forged.as_str()))] {
            let refused = account(addr, protocol, bearer).await.whoami().await.unwrap_err();
            assert_eq!(refused.code(), Code::Unauthenticated, "{protocol:?} with {case}: {refused:?}");
        }
        assert_eq!(service.ran.load(Ordering::SeqCst), ran + 2, "{protocol:?}: only the allowed calls ran");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_authorize_by_the_callers_tls_certificate() {
    let pki = TestPki::new();
    let tls = ServerTls::from_pem_files(pki.path("server.pem"), pki.path("server.key"))
        .client_ca(pki.path("ca.pem"))
        .build()
        .unwrap();
    let service = AccountImpl::default();
    let rules = Rules::new().allow("test.Account", "*", ["spiffe://example.org/billing"]);
    let bound = rpc::Server::builder()
        .tls(tls)
        .layer(AuthorizeLayer::new(rules))
        .add_service(AccountServer::new(service.clone()))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = bound.local_addr().unwrap();
    let _server = tokio::spawn(bound.serve());
    let billing = ClientTls::with_ca_file(pki.path("ca.pem"))
        .client_cert(pki.path("client.pem"), pki.path("client.key"))
        .build()
        .unwrap();
    let channel = rpc::Channel::builder().protocol(Protocol::Grpc).tls(billing).connect(addr).await.unwrap();
    assert_eq!(AccountClient::new(channel).whoami().await.unwrap(), "billing.internal");

    // Another client of the same CA, with another identity: verified, but not allowed.
    let (cert, key) = pki.ca.issue("reports", &["reports.internal", "spiffe://example.org/reports"]);
    pki.files.write("reports.pem", &cert);
    pki.files.write("reports.key", &key);
    let reports = ClientTls::with_ca_file(pki.path("ca.pem"))
        .client_cert(pki.path("reports.pem"), pki.path("reports.key"))
        .build()
        .unwrap();
    let channel = rpc::Channel::builder().tls(reports).connect(addr).await.unwrap();
    let denied = AccountClient::new(channel).reset().await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    assert!(denied.message().contains("spiffe://example.org/reports"), "names who was denied: {denied:?}");
    assert_eq!(service.ran.load(Ordering::SeqCst), 1);
}

/// Dubbo's token against a real dubbo2 client: refused without it or with a wrong one
/// (Dubbo's "Invalid token!" message), served with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_dubbo2_client_needs_the_providers_token() {
    let greetings = Greetings::default();
    let bound = rpc::Server::builder()
        .token("s3cret-token")
        .add_service(GreetingsServiceServer::new(greetings.clone()))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = bound.local_addr().unwrap();
    let _server = tokio::spawn(bound.serve());
    let cases = common::python::run_cases(
        "dubbo2_client.py",
        &["token", &addr.to_string(), "s3cret-token"],
        Duration::from_secs(60),
    )
    .await;
    for refused in ["no_token", "wrong_token"] {
        let error = cases[refused]["error"].as_str().unwrap_or_else(|| panic!("{refused}: {}", cases[refused]));
        assert!(error.contains("Invalid token! Forbid invoke remote service"), "{refused}: {error}");
    }
    assert_eq!(cases["token"]["ok"], "Hi, python", "{}", cases["token"]);
}

/// A random token (`token("true")`) is registered; a consumer that finds the provider in the
/// registry sends it, a direct caller that does not know it is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_token_is_sent_by_consumers_that_discover_the_provider() {
    use futures_util::StreamExt;

    let dir = common::tls::PemDir::new();
    let registry = rpc::registry::connect(&format!("file://{}", dir.dir.display())).await.unwrap();
    let greetings = Greetings::default();
    let bound = rpc::Server::builder()
        .token("true")
        .registry(registry.clone())
        .add_service(GreetingsServiceServer::new(greetings))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = bound.local_addr().unwrap();
    let _server = tokio::spawn(bound.serve());
    let service = "org.apache.dubbo.samples.api.GreetingsService";
    let mut found = registry.subscribe(service).await.unwrap();
    let token = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let set = found.next().await.expect("the registry keeps answering");
            if let Some(token) = set.instances.first().and_then(|i| i.metadata.get("token")) {
                return token.clone();
            }
        }
    })
    .await
    .expect("the provider registers its token");
    assert_eq!(token.len(), 36, "a UUID: {token}");

    let discovered =
        rpc::Channel::builder().registry(registry, service).timeout(Duration::from_secs(10)).build().unwrap();
    assert_eq!(GreetingsServiceClient::new(discovered).say_hi("cluster".into()).await.unwrap(), "Hi, cluster");
    let direct = rpc::Channel::builder().connect(addr).await.unwrap();
    let refused = GreetingsServiceClient::new(direct.clone()).say_hi("direct".into()).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let with_token = GreetingsServiceClient::new(direct).with_options(CallOptions::new().attachment("token", token));
    assert_eq!(with_token.say_hi("direct".into()).await.unwrap(), "Hi, direct");
}
