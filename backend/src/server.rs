//! Serving: TLS with rustls (ring provider) or plain HTTP, graceful shutdown that stops
//! accepting, turns `/readyz` to 503 and lets in-flight requests — a batch is one
//! transaction — finish within the grace period; the background task that forgets
//! expired nonces and sessions; and [`app_router`], the kit API plus the back office.
//!
//! Also the TLS pin that provisioning files carry: SHA-256 of the certificate's
//! SubjectPublicKeyInfo (survives certificate renewal with the same key) and of the
//! whole certificate.

use std::future::Future;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum_server::tls_rustls::RustlsConfig;
use axum_server::Handle;
use chrono::Utc;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest as _, Sha256};
use x509_cert::der::{Decode as _, Encode as _};

use crate::api;
use crate::state::AppState;

/// How long nonces are remembered (PROTOCOL.md §7.4: at least 360 s).
pub const NONCE_MEMORY: Duration = Duration::from_secs(600);

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

/// Everything the backend serves: the kit API ([`api::router`], unchanged) and the back
/// office under `/office` ([`crate::office::router`]).
pub fn app_router(app: AppState) -> axum::Router {
    api::router(app.clone()).merge(crate::office::router(app))
}

async fn forget_old_nonces(app: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        let before = Utc::now()
            - chrono::Duration::from_std(NONCE_MEMORY).unwrap_or(chrono::Duration::minutes(10));
        match app.store.purge_nonces(before).await {
            Ok(n) if n > 0 => tracing::debug!(nonces = n, "old nonces forgotten"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not forget old nonces"),
        }
        match app.store.purge_sessions(Utc::now()).await {
            Ok(n) if n > 0 => tracing::debug!(sessions = n, "ended sessions forgotten"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not forget ended sessions"),
        }
        let before = Utc::now() - crate::login_throttle::FORGET_AFTER;
        match app.store.purge_login_failures(before).await {
            Ok(n) if n > 0 => tracing::debug!(rows = n, "old login failures forgotten"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not forget old login failures"),
        }
    }
}

/// Serves the application on `listener` until `shutdown` completes, then stops
/// accepting and waits up to `grace` for in-flight requests.
///
/// # Errors
/// When the listener fails.
pub async fn serve_on(
    listener: std::net::TcpListener,
    app: AppState,
    tls: Option<Arc<ServerConfig>>,
    grace: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let handle: Handle<std::net::SocketAddr> = Handle::new();
    let watcher = {
        let (handle, app) = (handle.clone(), app.clone());
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!(grace_seconds = grace.as_secs(), "shutting down");
            app.begin_shutdown();
            handle.graceful_shutdown(Some(grace));
        })
    };
    let purger = tokio::spawn(forget_old_nonces(app.clone()));
    // The peer address is the login throttle's client address (office/login.rs).
    let service = app_router(app).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = match tls {
        Some(config) => {
            axum_server::from_tcp_rustls(listener, RustlsConfig::from_config(config))?
                .handle(handle)
                .serve(service)
                .await
        }
        None => {
            axum_server::from_tcp(listener)?
                .handle(handle)
                .serve(service)
                .await
        }
    };
    watcher.abort();
    purger.abort();
    served
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
