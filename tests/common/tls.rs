//! Certificates made at test time (rcgen), written as PEM files into a directory of the
//! test's own that is removed when the set is dropped: no key is ever committed.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType};

/// A certificate authority that signs the test's certificates.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        TestCa { pem: cert.pem(), issuer: Issuer::new(params, key) }
    }

    /// The CA's certificate, PEM.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// A certificate for `common_name` with these subject alternative names (DNS names,
    /// IP addresses, or URIs when they contain `://`): (certificate PEM, key PEM).
    pub fn issue(&self, common_name: &str, names: &[&str]) -> (String, String) {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, common_name);
        for name in names {
            let san = if let Ok(ip) = name.parse() {
                SanType::IpAddress(ip)
            } else if name.contains("://") {
                SanType::URI((*name).try_into().unwrap())
            } else {
                SanType::DnsName((*name).try_into().unwrap())
            };
            params.subject_alt_names.push(san);
        }
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// A directory of PEM files, removed on drop.
pub struct PemDir {
    pub dir: PathBuf,
}

impl PemDir {
    pub fn new() -> PemDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rpc-tls-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        PemDir { dir }
    }

    /// Writes `contents` to `name` (atomically: a reader never sees half a file).
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.join(name);
        let partial = self.dir.join(format!(".{name}.partial"));
        std::fs::write(&partial, contents).unwrap();
        std::fs::rename(&partial, &path).unwrap();
        path
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for PemDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The files one test needs: a CA, a server certificate for 127.0.0.1 and localhost, and a
/// client certificate naming `billing.internal` and a SPIFFE id.
pub struct TestPki {
    pub ca: TestCa,
    pub files: PemDir,
}

impl TestPki {
    pub fn new() -> TestPki {
        let ca = TestCa::new("rpc test CA");
        let files = PemDir::new();
        files.write("ca.pem", &ca.pem);
        let (cert, key) = ca.issue("provider", &["localhost", "127.0.0.1"]);
        files.write("server.pem", &cert);
        files.write("server.key", &key);
        let (cert, key) = ca.issue("billing", &["billing.internal", "spiffe://example.org/billing"]);
        files.write("client.pem", &cert);
        files.write("client.key", &key);
        TestPki { ca, files }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.files.path(name)
    }
}
