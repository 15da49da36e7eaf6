//! Kit request authentication (PROTOCOL.md §7.4) with `httpsig::verify_request`, and
//! the standing check (§6 step 4).
//!
//! The target URI is the configured public base URL followed by the path and query
//! exactly as received, never rebuilt from `Host` or forwarding headers. The nonce is
//! remembered in the database after the signature verified, so every backend process
//! sharing the database sees it.
//!
//! `verify_request` looks the kit key up synchronously; keys come from the database
//! asynchronously. A kit's key never changes once enrolled, so this process caches it;
//! on a cache miss the first pass reports which kit it needed, the key is loaded, and
//! the check runs again with it.

use axum::http::request::Parts;
use chrono::Utc;
use ed25519_dalek::VerifyingKey;
use sync_protocol::httpsig::{self, RequestParts, VerifiedRequest};
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

/// Verifies the request signature, records the nonce and loads the kit.
///
/// # Errors
/// `bad-request-signature`, `clock-skew`, `unknown-kit` or `replay`; storage errors.
pub async fn authenticate(
    app: &AppState,
    parts: &Parts,
    path_and_query: &str,
    body: &[u8],
) -> Result<AuthedKit, ApiError> {
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
    let first = httpsig::verify_request(&request, body, now, |id| {
        let key = app.cached_kit_key(id);
        if key.is_none() {
            missing = Some(*id);
        }
        key
    });
    let verified: VerifiedRequest = match (first, missing) {
        (Err(ProtocolError::WrongKeyId { .. }), Some(kit_id)) => {
            let key = load_key(app, &kit_id).await?.ok_or(ApiError::UnknownKit)?;
            httpsig::verify_request(&request, body, now, |_| Some(key)).map_err(signature_error)?
        }
        (result, _) => result.map_err(signature_error)?,
    };
    if !app
        .store
        .use_nonce(&verified.kit_id, &verified.nonce, Utc::now())
        .await?
    {
        return Err(ApiError::Replay);
    }
    let kit = app
        .store
        .kit(&verified.kit_id)
        .await?
        .ok_or(ApiError::UnknownKit)?;
    let key = app
        .cached_kit_key(&verified.kit_id)
        .ok_or(ApiError::UnknownKit)?;
    Ok(AuthedKit { kit, key })
}

/// Refuses a kit whose standing does not allow the route.
///
/// # Errors
/// `kit-revoked` or `kit-quarantined`.
pub fn require_standing(kit: &AuthedKit, needed: Standing) -> Result<(), ApiError> {
    match (needed, kit.kit.status) {
        (_, KitStatus::Provisioned) => Err(ApiError::UnknownKit),
        (Standing::Any, _) => Ok(()),
        (_, KitStatus::Revoked) => Err(ApiError::KitRevoked),
        (Standing::Active, KitStatus::Quarantined) => Err(ApiError::KitQuarantined),
        _ => Ok(()),
    }
}
