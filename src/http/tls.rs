//! TLS from PEM files (rustls with the ring provider): TLS 1.2 and 1.3, ALPN h2 and
//! http/1.1.
//!
//! Owns: loading and checking the certificate chain and key — a missing or unreadable
//! file, a file without a certificate or key, or a key that does not match the
//! certificate is an error at `start()`, with the path and the cause.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// ALPN ids we offer, most preferred first.
pub const ALPN_H2: &[u8] = b"h2";
pub const ALPN_HTTP11: &[u8] = b"http/1.1";

fn read(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {what} \"{}\": {e}", path.display()))
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = read(path, "tls_cert")?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut &pem[..])
        .collect::<Result<_, _>>()
        .map_err(|e| format!("tls_cert \"{}\" is not valid PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("tls_cert \"{}\" contains no certificate", path.display()));
    }
    Ok(certs)
}

fn key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let pem = read(path, "tls_key")?;
    rustls_pemfile::private_key(&mut &pem[..])
        .map_err(|e| format!("tls_key \"{}\" is not valid PEM: {e}", path.display()))?
        .ok_or_else(|| format!("tls_key \"{}\" contains no private key", path.display()))
}

/// A TLS acceptor for the given PEM files.
pub fn acceptor(cert: &Path, key_path: &Path) -> Result<TlsAcceptor, String> {
    let chain = certs(cert)?;
    let key = key(key_path)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => format!(
                "tls_key \"{}\" does not match the certificate in \"{}\"",
                key_path.display(),
                cert.display()
            ),
            other => format!(
                "cannot use tls_cert \"{}\" with tls_key \"{}\": {other}",
                cert.display(),
                key_path.display()
            ),
        })?;
    config.alpn_protocols = vec![ALPN_H2.to_vec(), ALPN_HTTP11.to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
