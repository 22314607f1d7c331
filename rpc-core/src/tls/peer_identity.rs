use std::net::IpAddr;

use rustls_pki_types::CertificateDer;
use x509_parser::extensions::GeneralName;

/// Who a TLS peer proved to be: the names in the certificate it presented, which the
/// server has verified against its client CA. Read it from
/// [`ConnectionInfo::peer_identity`](crate::ConnectionInfo::peer_identity) (or
/// [`CallContext::peer_identity`](crate::CallContext::peer_identity)) to authorize a call.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// fn is_billing(request: &rpc::Request) -> bool {
///     let identity = request.connection().and_then(|c| c.peer_identity.as_deref());
///     identity.is_some_and(|id| id.dns_names.iter().any(|name| name == "billing.internal"))
/// }
/// # assert!(!is_billing(&rpc::Request::new("s", "m", bytes::Bytes::new())));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PeerIdentity {
    /// The certificate's subject, as RFC 4514 writes it (`CN=billing,O=Example`).
    pub subject: String,
    /// DNS names among its subject alternative names.
    pub dns_names: Vec<String>,
    /// URIs among them (SPIFFE ids: `spiffe://example.org/ns/billing`).
    pub uris: Vec<String>,
    /// IP addresses among them.
    pub ips: Vec<IpAddr>,
}

impl PeerIdentity {
    /// The identity in a DER certificate; `None` when it does not parse (rustls has
    /// verified it, so that would be a certificate only a client CA-less server accepts).
    pub(crate) fn from_certificate(der: &CertificateDer<'_>) -> Option<PeerIdentity> {
        let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
        let mut identity = PeerIdentity { subject: cert.subject().to_string(), ..PeerIdentity::default() };
        if let Ok(Some(names)) = cert.subject_alternative_name() {
            for name in &names.value.general_names {
                match name {
                    GeneralName::DNSName(dns) => identity.dns_names.push((*dns).to_string()),
                    GeneralName::URI(uri) => identity.uris.push((*uri).to_string()),
                    GeneralName::IPAddress(bytes) => {
                        if let Ok(v4) = <[u8; 4]>::try_from(*bytes) {
                            identity.ips.push(IpAddr::from(v4));
                        } else if let Ok(v6) = <[u8; 16]>::try_from(*bytes) {
                            identity.ips.push(IpAddr::from(v6));
                        }
                    }
                    _ => {}
                }
            }
        }
        Some(identity)
    }

    /// Every name the identity goes by, for matching against authorization rules: the SANs,
    /// then the subject.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.dns_names.iter().chain(&self.uris).map(String::as_str).chain(std::iter::once(self.subject.as_str()))
    }
}
