//! The kit's HTTP client: rustls with the ring provider, trusting either the platform's
//! roots or — when IT's provisioning file carries one — exactly the pinned certificate
//! (by certificate or by public-key hash, so a renewed certificate with the same key
//! still works). Plain HTTP is allowed only to loopback addresses. Every request carries
//! `Fieldkit-Protocol`; every request after enrolment is signed with the kit key
//! (RFC 9421) without the key leaving the session.

use std::io::Read as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use sync_protocol::api::{EnrolResponse, Problem};
use sync_protocol::dsse::Envelope;
use sync_protocol::httpsig::{self, RequestParts};
use sync_protocol::ids::KitId;
use x509_cert::der::{Decode as _, Encode as _};

use crate::kit::Session;
use crate::KitError;

pub use sync_protocol::api::TlsPin;

#[derive(Debug)]
struct PinVerifier {
    /// Any of these may match (two during a certificate rollover's overlap).
    pins: Vec<TlsPin>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

fn leaf_matches(pin: &TlsPin, der: &[u8]) -> bool {
    if hex_lower(&Sha256::digest(der)) == pin.cert_sha256 {
        return true;
    }
    x509_cert::Certificate::from_der(der)
        .ok()
        .and_then(|c| c.tbs_certificate().subject_public_key_info().to_der().ok())
        .is_some_and(|spki| hex_lower(&Sha256::digest(spki)) == pin.spki_sha256)
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self
            .pins
            .iter()
            .any(|pin| leaf_matches(pin, end_entity.as_ref()))
        {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "the server certificate does not match the provisioned pin".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A connection to one backend. Clones share the connection pool.
#[derive(Clone)]
pub struct Backend {
    client: reqwest::blocking::Client,
    base: String,
    pin: Option<TlsPin>,
}

/// A backend's answer as it came: status, the headers the sync engine reads, the body.
/// Interpreting it (a problem? a captive portal's page?) is the caller's business.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// HTTP status.
    pub status: u16,
    /// `Retry-After`, as sent.
    pub retry_after: Option<String>,
    /// `Upload-Offset`, as sent (tus).
    pub upload_offset: Option<String>,
    /// The body (empty for `HEAD`).
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The body as a problem, when it is one.
    pub fn problem(&self) -> Option<Problem> {
        serde_json::from_slice(&self.body).ok()
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A transport failure with its whole cause chain: reqwest's own text ("error sending
/// request") does not say that, say, the certificate did not match the pin.
fn network(e: impl std::error::Error) -> KitError {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    KitError::Network(text)
}

impl Backend {
    /// A client for `base_url`, pinned to `pin` when given.
    ///
    /// # Errors
    /// [`KitError::Conflict`] for plain HTTP to a non-loopback host or a malformed URL.
    pub fn new(base_url: &str, pin: Option<&TlsPin>) -> Result<Self, KitError> {
        Self::with_pins(base_url, pin.map_or(&[], std::slice::from_ref))
    }

    /// A client for `base_url` that accepts a certificate matching any of `pins` (the
    /// platform's certificate authorities when `pins` is empty).
    ///
    /// # Errors
    /// As [`Backend::new`].
    pub fn with_pins(base_url: &str, pins: &[TlsPin]) -> Result<Self, KitError> {
        let url = reqwest::Url::parse(base_url)
            .map_err(|e| KitError::Conflict(format!("backend URL: {e}")))?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => {
                return Err(KitError::Conflict(
                    "plain HTTP is only allowed to this machine (loopback); use https".into(),
                ))
            }
            other => {
                return Err(KitError::Conflict(format!(
                    "unsupported URL scheme {other}"
                )))
            }
        }
        // reqwest's rustls backend also wants a process-wide provider; ring, as the
        // backend uses. Installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut builder = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(10))
            // A redirect could lead to plain HTTP or past the pin with signed headers
            // and a body: the kit API never redirects, so none are followed.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("fieldkit-kit/", env!("CARGO_PKG_VERSION")));
        let tls = match pins.first() {
            Some(_) => rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map_err(network)?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(PinVerifier {
                    pins: pins.to_vec(),
                    provider,
                }))
                .with_no_client_auth(),
            None => {
                let verifier =
                    rustls_platform_verifier::Verifier::new(provider.clone()).map_err(network)?;
                rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(network)?
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(verifier))
                    .with_no_client_auth()
            }
        };
        builder = builder.tls_backend_preconfigured(tls);
        Ok(Self {
            client: builder.build().map_err(network)?,
            base: base_url.trim_end_matches('/').to_owned(),
            pin: pins.first().cloned(),
        })
    }

    /// The backend's base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The TLS pin this client enforces, if any.
    pub fn pin(&self) -> Option<&TlsPin> {
        self.pin.as_ref()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn read<T: serde::de::DeserializeOwned>(
        response: reqwest::blocking::Response,
    ) -> Result<T, KitError> {
        let status = response.status();
        let body = response.bytes().map_err(network)?;
        if status.is_success() {
            // A 2xx that is not the expected body (a captive portal's page) is a failure.
            serde_json::from_slice(&body).map_err(|e| {
                KitError::Network(format!(
                    "the answer is not from a Fieldkit backend ({status}): {e}"
                ))
            })
        } else {
            let problem: Option<Problem> = serde_json::from_slice(&body).ok();
            Err(KitError::Backend {
                status: status.as_u16(),
                detail: problem.as_ref().map_or_else(
                    || format!("HTTP {status}"),
                    |p| format!("{}: {}", p.title, p.detail),
                ),
                problem: problem.map(Box::new),
            })
        }
    }

    /// `POST /v1/enrol` with a signed enrolment request.
    ///
    /// # Errors
    /// [`KitError::Backend`] with the backend's problem; [`KitError::Network`].
    pub fn enrol(&self, request: &Envelope) -> Result<EnrolResponse, KitError> {
        let response = self
            .client
            .post(self.url("/v1/enrol"))
            .header("content-type", "application/json")
            .header(
                sync_protocol::PROTOCOL_HEADER,
                sync_protocol::PROTOCOL_VERSION.to_string(),
            )
            .body(request.to_json())
            .send()
            .map_err(network)?;
        Self::read(response)
    }

    /// A signed `GET` of `path` as the enrolled kit.
    ///
    /// # Errors
    /// As [`Backend::enrol`].
    pub fn get_signed<T: serde::de::DeserializeOwned>(
        &self,
        session: &Session,
        path: &str,
    ) -> Result<T, KitError> {
        let target = self.url(path);
        let headers = session.signed_headers("GET", &target, b"")?;
        let mut request = self.client.get(&target);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        Self::read(request.send().map_err(network)?)
    }
}

impl Backend {
    /// A signed `POST` of a JSON body to `path` as the enrolled kit.
    ///
    /// # Errors
    /// As [`Backend::enrol`].
    pub fn post_signed<T: serde::de::DeserializeOwned>(
        &self,
        session: &Session,
        path: &str,
        body: Vec<u8>,
    ) -> Result<T, KitError> {
        let target = self.url(path);
        let headers = session.signed_headers("POST", &target, &body)?;
        let mut request = self
            .client
            .post(&target)
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(name, value);
        }
        Self::read(request.body(body).send().map_err(network)?)
    }
}

impl Backend {
    /// One signed request as the enrolled kit, answered with whatever came back. Only a
    /// failure to get any HTTP answer (DNS, connect, TLS, reset, timeout, a cut body)
    /// is an error.
    ///
    /// # Errors
    /// [`KitError::Network`].
    pub fn send_signed(
        &self,
        signer: &RequestSigner,
        request: SignedRequest<'_>,
    ) -> Result<RawResponse, KitError> {
        let SignedRequest {
            method,
            path,
            headers: extra_headers,
            body,
            timeout,
            cancel,
        } = request;
        let target = self.url(path);
        let headers = signer.headers(method.as_str(), &target, &body)?;
        let mut request = self.client.request(method, &target);
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        for (name, value) in headers {
            request = request.header(name, value);
        }
        for (name, value) in extra_headers {
            request = request.header(*name, value);
        }
        let request = match cancel {
            // A body read through the token: cancelling aborts a long upload mid-way.
            Some(token) if !body.is_empty() => {
                let len = body.len() as u64;
                request.body(reqwest::blocking::Body::sized(
                    CancellableBody {
                        body: std::io::Cursor::new(body),
                        cancel: token.clone(),
                    },
                    len,
                ))
            }
            _ => request.body(body),
        };
        let mut response = request.send().map_err(network)?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let status = response.status().as_u16();
        let retry_after = header("retry-after");
        let upload_offset = header("upload-offset");
        let mut body = Vec::new();
        std::io::Read::take(&mut response, MAX_ANSWER_BYTES + 1)
            .read_to_end(&mut body)
            .map_err(network)?;
        if body.len() as u64 > MAX_ANSWER_BYTES {
            return Err(KitError::Network(format!(
                "HTTP {status}: the answer is larger than {MAX_ANSWER_BYTES} bytes; not a Fieldkit answer"
            )));
        }
        Ok(RawResponse {
            status,
            retry_after,
            upload_offset,
            body,
        })
    }
}

/// The largest answer the kit reads: the largest Fieldkit answer is a push batch
/// response (100 receipts) or a catalog (2 MiB).
pub const MAX_ANSWER_BYTES: u64 = 16 * 1024 * 1024;

/// One request for [`Backend::send_signed`].
pub struct SignedRequest<'a> {
    /// The method.
    pub method: reqwest::Method,
    /// Path and query below the base URL.
    pub path: &'a str,
    /// Headers besides the signature's own.
    pub headers: &'a [(&'a str, String)],
    /// The body (signed through `Content-Digest`).
    pub body: Vec<u8>,
    /// Time limit of the whole request, instead of the client's.
    pub timeout: Option<Duration>,
    /// Aborts the upload of the body when cancelled.
    pub cancel: Option<&'a crate::sync::CancelToken>,
}

/// A request body that stops with an error once its token is cancelled.
struct CancellableBody {
    body: std::io::Cursor<Vec<u8>>,
    cancel: crate::sync::CancelToken,
}

impl std::io::Read for CancellableBody {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancel.is_cancelled() {
            return Err(std::io::Error::other("sync cancelled"));
        }
        // Small reads, so a cancellation is noticed within a few KiB.
        let n = buf.len().min(16 * 1024);
        self.body.read(&mut buf[..n])
    }
}

/// What signs a kit's requests: the kit's id and key, and the clock offset learnt from
/// the backend. It is `Send` and cheap to clone (clones share the offset), so upload
/// workers sign their own requests while the session — and its database connection —
/// stays on the run's thread. The key never leaves the process.
#[derive(Clone)]
pub struct RequestSigner {
    kit_id: KitId,
    key: SigningKey,
    skew_secs: Arc<AtomicI64>,
}

impl std::fmt::Debug for RequestSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestSigner")
            .field("kit_id", &self.kit_id)
            .finish_non_exhaustive()
    }
}

impl RequestSigner {
    /// Kit clock minus server clock, as the signatures correct for it.
    pub fn skew_secs(&self) -> i64 {
        self.skew_secs.load(Ordering::Relaxed)
    }

    /// Corrects every clone's signatures for a newly learnt clock offset.
    pub fn set_skew_secs(&self, skew_secs: i64) {
        self.skew_secs.store(skew_secs, Ordering::Relaxed);
    }

    /// The headers that authenticate one request as this kit: `Fieldkit-Protocol`,
    /// `Content-Digest` and the RFC 9421 signature.
    ///
    /// # Errors
    /// Protocol errors for an unusable URI.
    pub fn headers(
        &self,
        method: &str,
        target_uri: &str,
        body: &[u8],
    ) -> Result<Vec<(String, String)>, KitError> {
        let mut headers = vec![
            ("content-digest".to_owned(), httpsig::content_digest(body)),
            (
                sync_protocol::PROTOCOL_HEADER.to_owned(),
                sync_protocol::PROTOCOL_VERSION.to_string(),
            ),
        ];
        let mut nonce = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut nonce);
        let signed = httpsig::sign_request(
            &RequestParts {
                method,
                target_uri,
                headers: &headers,
            },
            &self.kit_id,
            &self.key,
            chrono::Utc::now().timestamp() - self.skew_secs(),
            &hex_lower(&nonce),
        )?;
        headers.push(("signature-input".to_owned(), signed.signature_input));
        headers.push(("signature".to_owned(), signed.signature));
        Ok(headers)
    }
}

impl Session {
    /// The signer of this kit's requests, with the clock offset stored so far.
    ///
    /// # Errors
    /// [`KitError::NotEnrolled`]; store errors.
    pub fn request_signer(&self) -> Result<RequestSigner, KitError> {
        let kit_id = self.require_enrolment()?.kit_id;
        let skew: i64 = self
            .meta("clock_skew_secs")?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Ok(RequestSigner {
            kit_id,
            key: self.kit_key.clone(),
            skew_secs: Arc::new(AtomicI64::new(skew)),
        })
    }

    /// The headers that authenticate one request as this kit (see
    /// [`RequestSigner::headers`]).
    ///
    /// # Errors
    /// [`KitError::NotEnrolled`]; protocol errors for an unusable URI.
    pub fn signed_headers(
        &self,
        method: &str,
        target_uri: &str,
        body: &[u8],
    ) -> Result<Vec<(String, String)>, KitError> {
        self.request_signer()?.headers(method, target_uri, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_refused_except_to_loopback() {
        assert!(Backend::new("http://127.0.0.1:8080", None).is_ok());
        assert!(Backend::new("http://localhost:8080", None).is_ok());
        assert!(Backend::new("http://[::1]:8080", None).is_ok());
        assert!(matches!(
            Backend::new("http://fieldkit.musterstadt.de", None),
            Err(KitError::Conflict(_))
        ));
        assert!(matches!(
            Backend::new("ftp://x", None),
            Err(KitError::Conflict(_))
        ));
        assert!(matches!(
            Backend::new("not a url", None),
            Err(KitError::Conflict(_))
        ));
    }
}
