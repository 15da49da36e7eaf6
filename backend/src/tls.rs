//! TLS material, outside the server so that the admin commands can read it without
//! depending on serving: a rustls server configuration from PEM files, and the pin
//! that provisioning files and `tls_pin` changes carry — SHA-256 of the certificate's
//! SubjectPublicKeyInfo (survives certificate renewal with the same key) and of the
//! whole certificate.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest as _, Sha256};
use x509_cert::der::{Decode as _, Encode as _};

/// Why TLS material is unusable.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file cannot be read or parsed.
    #[error("{path}: {reason}")]
    Pem {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// rustls refused the certificate and key.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

fn pem_error(path: &Path, reason: impl ToString) -> TlsError {
    TlsError::Pem {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

fn read_certs(cert: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(cert)
        .map_err(|e| pem_error(cert, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(cert, e))?;
    if certs.is_empty() {
        return Err(pem_error(cert, "no certificate in the file"));
    }
    Ok(certs)
}

/// A rustls server configuration from PEM files (HTTP/2 and HTTP/1.1 via ALPN).
///
/// # Errors
/// [`TlsError`].
pub fn load_tls(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let certs = read_certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| pem_error(key, e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// What a kit pins to trust this backend's TLS certificate (a protocol type).
pub use sync_protocol::api::TlsPin;

/// The pin of the first (leaf) certificate of a PEM chain.
///
/// # Errors
/// [`TlsError::Pem`] when the file holds no parsable certificate.
pub fn tls_pin(cert: &Path) -> Result<TlsPin, TlsError> {
    let certs = read_certs(cert)?;
    let der = certs[0].as_ref();
    let parsed = x509_cert::Certificate::from_der(der).map_err(|e| pem_error(cert, e))?;
    let spki = parsed
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|e| pem_error(cert, e))?;
    Ok(TlsPin {
        spki_sha256: hex::encode(Sha256::digest(&spki)),
        cert_sha256: hex::encode(Sha256::digest(der)),
    })
}
