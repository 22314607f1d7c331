//! Certificates for the TLS rows (`rpc-msgpack-tls`, `rpc-grpc-tls`, `tonic-tls`): a CA and
//! a certificate for 127.0.0.1 and localhost, made at first use (rcgen) in a directory the
//! server and client processes share, never committed.

use std::path::PathBuf;

/// The PEM files of the TLS rows: CA, server certificate, server key.
pub type TlsFiles = (PathBuf, PathBuf, PathBuf);

/// Where the files are: `RPC_BENCH_TLS_DIR`, else a directory of this user's under the
/// system temp dir.
fn dir() -> PathBuf {
    std::env::var_os("RPC_BENCH_TLS_DIR")
        .map(PathBuf::from)
        // SAFETY: getuid has no preconditions and cannot fail.
        .unwrap_or_else(|| std::env::temp_dir().join(format!("rpc-bench-tls-{}", unsafe { libc::getuid() })))
}

/// The PEM files. Made once; a process that races
/// another to make them takes the other's (the directory appears whole, by rename).
pub fn files() -> Result<TlsFiles, String> {
    let dir = dir();
    let paths = (dir.join("ca.pem"), dir.join("server.pem"), dir.join("server.key"));
    if !paths.2.exists() {
        let partial = dir.with_extension(format!("partial-{}", std::process::id()));
        std::fs::create_dir_all(&partial).map_err(|e| format!("{}: {e}", partial.display()))?;
        let (ca, cert, key) = generate().map_err(|e| format!("make certificates: {e}"))?;
        for (name, contents) in [("ca.pem", ca), ("server.pem", cert), ("server.key", key)] {
            std::fs::write(partial.join(name), contents).map_err(|e| format!("write {name}: {e}"))?;
        }
        if std::fs::rename(&partial, &dir).is_err() {
            // Another process made them first.
            let _ = std::fs::remove_dir_all(&partial);
        }
    }
    Ok(paths)
}

fn generate() -> Result<(String, String, String), rcgen::Error> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "rpc-bench CA");
    let ca_key = KeyPair::generate()?;
    let ca_pem = ca.self_signed(&ca_key)?.pem();
    let issuer = Issuer::new(ca, ca_key);
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()])?;
    leaf.subject_alt_names.push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
    let key = KeyPair::generate()?;
    let cert = leaf.signed_by(&key, &issuer)?;
    Ok((ca_pem, cert.pem(), key.serialize_pem()))
}
