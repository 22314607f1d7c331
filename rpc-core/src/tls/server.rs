use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use rustls::server::WebPkiClientVerifier;

use super::{alpn, crypto_provider, pem};

/// Whether a TLS server asks its clients for a certificate (mutual TLS). Only meaningful
/// with a client CA ([`ServerTlsBuilder::client_ca`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientAuth {
    /// A client must present a certificate that chains to the client CA.
    #[default]
    Required,
    /// A client may present one (then it must chain to the CA) or none.
    Optional,
}

/// A server's TLS settings: its certificate and key (PEM files), optionally a CA its
/// clients' certificates must chain to, and whether plaintext connections are still served
/// on the same port. The files are read again when they change (checked at most once per
/// [`ServerTlsBuilder::reload_check_interval`], on a new connection), so a renewed
/// certificate is served without a restart; connections already open keep theirs.
///
/// ```no_run
/// # mod rpc { pub use rpc_core::*; }
/// # fn main() -> std::io::Result<()> {
/// let tls = rpc::tls::ServerTls::from_pem_files("server.pem", "server.key")
///     .client_ca("clients-ca.pem") // mutual TLS
///     .build()?;
/// let server = rpc::Server::builder().tls(tls);
/// # drop(server); Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ServerTls {
    inner: Arc<Reloading>,
}

/// Builds a [`ServerTls`]; see [`ServerTls::from_pem_files`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ServerTlsBuilder {
    files: TlsFiles,
    allow_plaintext: bool,
    reload_check_interval: Duration,
}

#[derive(Debug, Clone)]
struct TlsFiles {
    cert: PathBuf,
    key: PathBuf,
    client_ca: Option<PathBuf>,
    client_auth: ClientAuth,
}

struct Reloading {
    files: TlsFiles,
    allow_plaintext: bool,
    check_interval: Duration,
    current: ArcSwap<rustls::ServerConfig>,
    checked: Mutex<Checked>,
}

/// When the files were last looked at, and how they were then.
struct Checked {
    at: Instant,
    stamps: Vec<FileStamp>,
}

/// Enough of a file's metadata to tell it changed: rewritten in place or replaced by rename.
#[derive(Debug, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

impl ServerTls {
    /// TLS with the certificate chain in `cert` (PEM, leaf first) and the private key in
    /// `key` (PEM: PKCS#8, PKCS#1 or SEC1). Plaintext connections are refused unless
    /// [`ServerTlsBuilder::allow_plaintext`] says otherwise.
    pub fn from_pem_files(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> ServerTlsBuilder {
        ServerTlsBuilder {
            files: TlsFiles { cert: cert.into(), key: key.into(), client_ca: None, client_auth: ClientAuth::Required },
            allow_plaintext: false,
            reload_check_interval: Duration::from_secs(1),
        }
    }

    /// Whether a connection that does not open with a TLS handshake is served.
    pub fn allows_plaintext(&self) -> bool {
        self.inner.allow_plaintext
    }

    /// The acceptor for a new connection, with the files read again first if they changed.
    pub(crate) fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        self.inner.reload_if_changed();
        tokio_rustls::TlsAcceptor::from(self.inner.current.load_full())
    }

    /// Whether clients present certificates that are verified (so a peer identity is known).
    pub(crate) fn verifies_clients(&self) -> bool {
        self.inner.files.client_ca.is_some()
    }
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("files", &self.inner.files)
            .field("allow_plaintext", &self.inner.allow_plaintext)
            .finish_non_exhaustive()
    }
}

impl ServerTlsBuilder {
    /// Verifies client certificates against the CAs in this PEM file (mutual TLS); a client
    /// without one is refused unless [`ServerTlsBuilder::client_auth`] makes it optional.
    pub fn client_ca(mut self, path: impl Into<PathBuf>) -> Self {
        self.files.client_ca = Some(path.into());
        self
    }

    /// Whether a client certificate is required or optional (with a client CA).
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.files.client_auth = auth;
        self
    }

    /// Also serves connections that open in plaintext on the same port (for a migration);
    /// off by default.
    pub fn allow_plaintext(mut self, allow: bool) -> Self {
        self.allow_plaintext = allow;
        self
    }

    /// How often, at most, a new connection makes the server look whether the files changed
    /// (one `stat` per file); one second by default.
    pub fn reload_check_interval(mut self, interval: Duration) -> Self {
        self.reload_check_interval = interval;
        self
    }

    /// Reads the files; an error names the file that is missing or unreadable, or says the
    /// key does not fit the certificate.
    pub fn build(self) -> io::Result<ServerTls> {
        let stamps = self.files.stamps();
        let config = self.files.load()?;
        Ok(ServerTls {
            inner: Arc::new(Reloading {
                files: self.files,
                allow_plaintext: self.allow_plaintext,
                check_interval: self.reload_check_interval,
                current: ArcSwap::from_pointee(config),
                checked: Mutex::new(Checked { at: Instant::now(), stamps }),
            }),
        })
    }
}

impl Reloading {
    fn reload_if_changed(&self) {
        // Another connection checking right now does it for this one too.
        let Ok(mut checked) = self.checked.try_lock() else { return };
        if checked.at.elapsed() < self.check_interval {
            return;
        }
        checked.at = Instant::now();
        let stamps = self.files.stamps();
        if stamps == checked.stamps {
            return;
        }
        // Taken as seen even if it fails: a half-written pair is loaded once its last file
        // is written (which changes its stamp again), and a bad one is not retried forever.
        checked.stamps = stamps;
        match self.files.load() {
            Ok(config) => {
                self.current.store(Arc::new(config));
                tracing::info!(cert = %self.files.cert.display(), "TLS certificate files changed; reloaded");
            }
            Err(e) => {
                tracing::warn!(error = %e, "TLS certificate files changed but do not load; keeping the last good ones")
            }
        }
    }
}

impl TlsFiles {
    fn paths(&self) -> impl Iterator<Item = &Path> {
        [Some(&self.cert), Some(&self.key), self.client_ca.as_ref()].into_iter().flatten().map(PathBuf::as_path)
    }

    fn stamps(&self) -> Vec<FileStamp> {
        self.paths().map(FileStamp::of).collect()
    }

    fn load(&self) -> io::Result<rustls::ServerConfig> {
        let provider = crypto_provider();
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| pem::tls_error(&self.cert, e))?;
        let builder = match &self.client_ca {
            None => builder.with_no_client_auth(),
            Some(ca) => {
                let roots = Arc::new(pem::root_store(ca)?);
                let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider);
                let verifier = match self.client_auth {
                    ClientAuth::Required => verifier,
                    ClientAuth::Optional => verifier.allow_unauthenticated(),
                };
                let verifier = verifier
                    .build()
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", ca.display())))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let chain = pem::certificates(&self.cert)?;
        let key = pem::private_key(&self.key)?;
        let mut config = builder.with_single_cert(chain, key).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} with {}: {e}", self.cert.display(), self.key.display()),
            )
        })?;
        config.alpn_protocols = alpn::server_protocols();
        Ok(config)
    }
}

impl FileStamp {
    fn of(path: &Path) -> FileStamp {
        use std::os::unix::fs::MetadataExt;
        match std::fs::metadata(path) {
            Ok(meta) => FileStamp { modified: meta.modified().ok(), len: meta.len(), inode: meta.ino() },
            Err(_) => FileStamp { modified: None, len: 0, inode: 0 },
        }
    }
}
