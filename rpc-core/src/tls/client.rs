use std::io;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use rustls_pki_types::ServerName;

use super::{alpn, crypto_provider, pem};
use crate::{Protocol, Status};

/// A client's TLS settings: which CAs a provider's certificate must chain to (a CA bundle
/// or the system's roots), the name to verify it against, and a certificate of the
/// client's own for mutual TLS. Set it on a channel's
/// [`ConnectionConfig::tls`](crate::transport::ConnectionConfig::tls); every connection of
/// the channel is then TLS, whatever its protocol.
///
/// ```no_run
/// # mod rpc { pub use rpc_core::*; }
/// # fn main() -> std::io::Result<()> {
/// let tls = rpc::tls::ClientTls::with_ca_file("ca.pem")
///     .client_cert("client.pem", "client.key") // mutual TLS
///     .server_name("provider.internal")
///     .build()?;
/// let mut config = rpc::transport::ConnectionConfig::default();
/// config.tls = Some(tls);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ClientTls {
    /// One configuration per protocol: they differ only in the ALPN ids offered.
    binary: Arc<rustls::ClientConfig>,
    grpc: Arc<rustls::ClientConfig>,
    dubbo: Arc<rustls::ClientConfig>,
    server_name: Option<ServerName<'static>>,
    description: String,
}

/// Builds a [`ClientTls`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ClientTlsBuilder {
    ca: Option<PathBuf>,
    client_cert: Option<(PathBuf, PathBuf)>,
    server_name: Option<String>,
}

impl ClientTls {
    /// Providers' certificates must chain to a CA in this PEM file.
    pub fn with_ca_file(path: impl Into<PathBuf>) -> ClientTlsBuilder {
        ClientTlsBuilder { ca: Some(path.into()), client_cert: None, server_name: None }
    }

    /// Providers' certificates must chain to a root the system trusts.
    pub fn with_system_roots() -> ClientTlsBuilder {
        ClientTlsBuilder { ca: None, client_cert: None, server_name: None }
    }

    /// TLS verified against the system's roots, for a provider that advertises TLS to a
    /// channel given no TLS settings; `None` (logged once) if the system has no roots.
    pub(crate) fn system_default() -> Option<ClientTls> {
        static DEFAULT: OnceLock<Option<ClientTls>> = OnceLock::new();
        DEFAULT
            .get_or_init(|| match ClientTls::with_system_roots().build() {
                Ok(tls) => Some(tls),
                Err(e) => {
                    tracing::warn!(error = %e, "a provider advertises TLS but the system has no roots; connecting in plaintext");
                    None
                }
            })
            .clone()
    }

    /// The configuration for a connection in `protocol`.
    fn config(&self, protocol: Protocol) -> Arc<rustls::ClientConfig> {
        match protocol {
            Protocol::Grpc | Protocol::Rest => self.grpc.clone(),
            Protocol::Dubbo => self.dubbo.clone(),
            Protocol::Binary => self.binary.clone(),
        }
    }

    /// Opens TLS over `stream`, verifying the provider as the configured server name, else
    /// as `host` (the host of the address dialled, a name or an IP address).
    pub(crate) async fn connect(
        &self,
        stream: tokio::net::TcpStream,
        host: &str,
        protocol: Protocol,
    ) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, Status> {
        let name = match &self.server_name {
            Some(name) => name.clone(),
            None => server_name(host)?,
        };
        let connector = tokio_rustls::TlsConnector::from(self.config(protocol));
        connector
            .connect(name, stream)
            .await
            .map_err(|e| Status::unavailable(format!("TLS handshake with {host}: {e}")))
    }
}

/// A host as TLS verifies it: an IP address against the certificate's IP SANs, a name
/// against its DNS names.
fn server_name(host: &str) -> Result<ServerName<'static>, Status> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    ServerName::try_from(bare.to_string())
        .map_err(|e| Status::invalid_argument(format!("{host:?} is not a name TLS can verify: {e}")))
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

impl ClientTlsBuilder {
    /// Presents this certificate chain (PEM, leaf first) and key to providers that ask for
    /// one (mutual TLS).
    pub fn client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.client_cert = Some((cert.into(), key.into()));
        self
    }

    /// Verifies providers' certificates as this name (and sends it as SNI) instead of the
    /// host of the address dialled: for providers registered by IP address whose
    /// certificates name a host.
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// Reads the files; an error names the one that is missing or unreadable.
    pub fn build(self) -> io::Result<ClientTls> {
        let roots = match &self.ca {
            Some(path) => pem::root_store(path)?,
            None => system_roots()?,
        };
        let server_name = match &self.server_name {
            Some(name) => Some(
                server_name(name).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.message().to_string()))?,
            ),
            None => None,
        };
        let builder = rustls::ClientConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| io::Error::other(e.to_string()))?
            .with_root_certificates(roots);
        let base = match &self.client_cert {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => builder
                .with_client_auth_cert(pem::certificates(cert)?, pem::private_key(key)?)
                .map_err(|e| pem::tls_error(cert, e))?,
        };
        let with_alpn = |protocol| {
            let mut config = base.clone();
            config.alpn_protocols = alpn::client_protocols(protocol);
            Arc::new(config)
        };
        let description = format!(
            "ClientTls {{ ca: {}, client_cert: {}, server_name: {:?} }}",
            self.ca.as_ref().map_or_else(|| "system roots".into(), |p| p.display().to_string()),
            self.client_cert.as_ref().map_or_else(|| "none".into(), |(c, _)| c.display().to_string()),
            self.server_name,
        );
        Ok(ClientTls {
            binary: with_alpn(Protocol::Binary),
            grpc: with_alpn(Protocol::Grpc),
            dubbo: with_alpn(Protocol::Dubbo),
            server_name,
            description,
        })
    }
}

fn system_roots() -> io::Result<rustls::RootCertStore> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = found.errors.first().map_or_else(|| "none found".to_string(), ToString::to_string);
        return Err(io::Error::new(io::ErrorKind::NotFound, format!("no system root certificates: {why}")));
    }
    Ok(roots)
}
