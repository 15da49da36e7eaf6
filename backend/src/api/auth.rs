//! Kit request authentication (PROTOCOL.md §7.4) in two halves, and the standing check
//! (§6 step 4).
//!
//! [`authenticate_head`] runs before a byte of the body is read: the signature headers
//! (`httpsig::verify_request_head`: covered components, `created` window, known kit,
//! the signature over the signed `Content-Digest`) and whether the nonce is still
//! unused — only looked up, not yet remembered. A client that cannot sign as an
//! enrolled kit is refused with its body unread, so it cannot make the server buffer
//! anything. [`HeadVerified::finish`] runs after the body streamed in: the body's
//! SHA-256 must match the signed digest, and only then is the nonce remembered in the
//! database, so every backend process sharing the database sees it.
//!
//! The target URI is the configured public base URL followed by the path and query
//! exactly as received, never rebuilt from `Host` or forwarding headers.
//!
//! `verify_request_head` looks the kit key up synchronously; keys come from the
//! database asynchronously. A kit's key never changes once enrolled, so this process
//! caches it; on a cache miss the first pass reports which kit it needed, the key is
//! loaded, and the check runs again with it.

use axum::http::request::Parts;
use chrono::Utc;
use ed25519_dalek::VerifyingKey;
use sync_protocol::httpsig::{self, RequestParts, VerifiedHead};
use sync_protocol::ids::KitId;
use sync_protocol::ProtocolError;

use super::Standing;
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::{KitRow, KitStatus};

/// The authenticated kit of a request, as the database holds it now.
#[derive(Debug, Clone)]
pub struct AuthedKit {
    /// The kit's row.
    pub kit: KitRow,
    /// Its public key.
    pub key: VerifyingKey,
}

/// A request whose signature headers verified; its body is not read yet.
#[derive(Debug)]
pub struct HeadVerified {
    head: VerifiedHead,
    /// The kit as the database holds it now.
    pub kit: AuthedKit,
}

fn signature_error(e: ProtocolError) -> ApiError {
    match e {
        ProtocolError::Stale { created, now } => ApiError::ClockSkew(created - now),
        ProtocolError::WrongKeyId { .. } => ApiError::UnknownKit,
        other => ApiError::BadSignature(other.to_string()),
    }
}

async fn load_key(app: &AppState, kit_id: &KitId) -> Result<Option<VerifyingKey>, ApiError> {
    let Some(row) = app.store.kit(kit_id).await? else {
        return Ok(None);
    };
    let key = row
        .public_key
        .and_then(|k| VerifyingKey::from_bytes(&k).ok());
    if let Some(k) = key {
        app.cache_kit_key(*kit_id, k);
    }
    Ok(key)
}

/// Verifies the request's signature headers and that its nonce is unused, and loads
/// the kit — all before the body is read.
///
/// # Errors
/// `bad-request-signature`, `clock-skew`, `unknown-kit` or `replay`; storage errors.
pub async fn authenticate_head(
    app: &AppState,
    parts: &Parts,
    path_and_query: &str,
) -> Result<HeadVerified, ApiError> {
    let target_uri = format!("{}{path_and_query}", app.public_base_url);
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter_map(|(n, v)| {
            v.to_str()
                .ok()
                .map(|v| (n.as_str().to_owned(), v.to_owned()))
        })
        .collect();
    let request = RequestParts {
        method: parts.method.as_str(),
        target_uri: &target_uri,
        headers: &headers,
    };
    let now = Utc::now().timestamp();
    let mut missing = None;
    let first = httpsig::verify_request_head(&request, now, |id| {
        let key = app.cached_kit_key(id);
        if key.is_none() {
            missing = Some(*id);
        }
        key
    });
    let head = match (first, missing) {
        (Err(ProtocolError::WrongKeyId { .. }), Some(kit_id)) => {
            let key = load_key(app, &kit_id).await?.ok_or(ApiError::UnknownKit)?;
            httpsig::verify_request_head(&request, now, |_| Some(key)).map_err(signature_error)?
        }
        (result, _) => result.map_err(signature_error)?,
    };
    let kit_id = head.request.kit_id;
    if app.store.nonce_used(&kit_id, &head.request.nonce).await? {
        return Err(ApiError::Replay);
    }
    let kit = app.store.kit(&kit_id).await?.ok_or(ApiError::UnknownKit)?;
    let key = app.cached_kit_key(&kit_id).ok_or(ApiError::UnknownKit)?;
    Ok(HeadVerified {
        head,
        kit: AuthedKit { kit, key },
    })
}

impl HeadVerified {
    /// After the body streamed in: checks it against the signed `Content-Digest` and
    /// remembers the nonce.
    ///
    /// # Errors
    /// `bad-request-signature` when the body does not match; `replay` when a parallel
    /// request with the same nonce won; storage errors.
    pub async fn finish(self, app: &AppState, body_sha256: &[u8]) -> Result<AuthedKit, ApiError> {
        if body_sha256 != self.head.content_sha256.as_slice() {
            return Err(signature_error(ProtocolError::DigestMismatch));
        }
        let request = &self.head.request;
        if !app
            .store
            .use_nonce(&request.kit_id, &request.nonce, Utc::now())
            .await?
        {
            return Err(ApiError::Replay);
        }
        Ok(self.kit)
    }
}

/// Refuses a kit whose standing does not allow the route.
///
/// # Errors
/// `kit-revoked` or `kit-quarantined`.
pub fn require_standing(kit: &AuthedKit, needed: Standing) -> Result<(), ApiError> {
    match (needed, kit.kit.status) {
        (_, KitStatus::Provisioned) => Err(ApiError::UnknownKit),
        (Standing::Any, _) => Ok(()),
        (_, KitStatus::Revoked) => revoked_kit_may_call(needed),
        (Standing::Active, KitStatus::Quarantined) => Err(ApiError::KitQuarantined),
        _ => Ok(()),
    }
}

/// The one decision about what a revoked kit may still call (every route but those of
/// [`Standing::Any`] refuses it today).
fn revoked_kit_may_call(_needed: Standing) -> Result<(), ApiError> {
    Err(ApiError::KitRevoked)
}
