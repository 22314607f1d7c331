//! Certificates and keys read from PEM files, with errors that name the file.

use std::io;
use std::path::Path;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Every certificate in a PEM file (a chain: the leaf first), refusing a file with none.
pub(crate) fn certificates(path: &Path) -> io::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_error(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, e))?;
    if certs.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("{}: no certificate in it", path.display())));
    }
    Ok(certs)
}

/// The first private key in a PEM file (PKCS#8, PKCS#1 or SEC1).
pub(crate) fn private_key(path: &Path) -> io::Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| pem_error(path, e))
}

/// A CA bundle: the roots a peer's certificate must chain to.
pub(crate) fn root_store(path: &Path) -> io::Result<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in certificates(path)? {
        roots.add(cert).map_err(|e| tls_error(path, e))?;
    }
    Ok(roots)
}

fn pem_error(path: &Path, error: rustls_pki_types::pem::Error) -> io::Error {
    match error {
        rustls_pki_types::pem::Error::Io(e) => io::Error::new(e.kind(), format!("{}: {e}", path.display())),
        other => io::Error::new(io::ErrorKind::InvalidData, format!("{}: {other}", path.display())),
    }
}

pub(crate) fn tls_error(path: &Path, error: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{}: {error}", path.display()))
}
