//! Rollovers a kit learns from its signed changes feed, without re-enrolment
//! (PROTOCOL.md §2.5, §6.5): a new server signing key, and a new TLS certificate pin.
//! Both are announced to every kit's feed with an overlap period during which kits trust
//! the old and the new key (or pin).
//!
//! A rotated signing key is used by a server process from its next start: restart every
//! node right after rotating (backend/README.md, "Rolling over keys and certificates").

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sync_protocol::api::ChangeKind;

use super::{timestamp, Admin, AdminError};
use crate::keys::SealedServerKey;
use crate::storage::AdminAction;

/// The shortest overlap an operator may choose: kits that sync less often than this may
/// still miss it (they then learn the rollover at their next sync, signed by the key or
/// over the connection they trust).
pub const MIN_OVERLAP_DAYS: u32 = 1;
/// The longest overlap.
pub const MAX_OVERLAP_DAYS: u32 = 365;

/// What a rollover did.
#[derive(Debug, Clone, Serialize)]
pub struct Rollover {
    /// The new key id, or the new certificate's SPKI hash.
    pub new: String,
    /// The replaced key id (key rotation only).
    pub replaces: Option<String>,
    /// When kits stop trusting the old key or pins.
    pub overlap_until: String,
}

fn overlap_until(now: DateTime<Utc>, days: u32) -> Result<DateTime<Utc>, AdminError> {
    if !(MIN_OVERLAP_DAYS..=MAX_OVERLAP_DAYS).contains(&days) {
        return Err(AdminError::Invalid(format!(
            "the overlap is {MIN_OVERLAP_DAYS} to {MAX_OVERLAP_DAYS} days / Überlappung: \
             {MIN_OVERLAP_DAYS} bis {MAX_OVERLAP_DAYS} Tage"
        )));
    }
    let until = now + Duration::days(i64::from(days));
    Ok(DateTime::from_timestamp_millis(until.timestamp_millis()).unwrap_or(until))
}

/// Generates a new server signing key, makes it current and announces it to every kit,
/// signed by the key it replaces. Logged in the admin trail.
///
/// # Errors
/// [`AdminError::Invalid`] for an overlap outside the bounds; store and key errors.
pub async fn rotate_server_key(admin: &Admin, overlap_days: u32) -> Result<Rollover, AdminError> {
    let now = Utc::now();
    let until = overlap_until(now, overlap_days)?;
    // The current key must exist (and open with this master key) before it is replaced.
    admin.server_key().await?;
    let new = SealedServerKey::generate(&admin.master, now);
    let replaces = admin.store.rotate_server_key(&new, until, now).await?;
    let detail = format!("replaces {replaces}; overlap until {}", timestamp(until));
    admin
        .record(
            None,
            AdminAction::ServerKeyRotated,
            &new.key_id,
            Some(&detail),
        )
        .await?;
    Ok(Rollover {
        new: new.key_id,
        replaces: Some(replaces),
        overlap_until: timestamp(until),
    })
}

/// Announces the pin of a new TLS certificate (PEM, leaf first) to every kit. Install
/// the certificate before the overlap ends. Logged in the admin trail.
///
/// # Errors
/// [`AdminError::Invalid`] for an unreadable certificate or an overlap outside the
/// bounds; store errors.
pub async fn announce_tls_pin(
    admin: &Admin,
    cert: &std::path::Path,
    overlap_days: u32,
) -> Result<Rollover, AdminError> {
    let now = Utc::now();
    let until = overlap_until(now, overlap_days)?;
    let pin = crate::tls::tls_pin(cert).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let spki = pin.spki_sha256.clone();
    admin
        .store
        .announce_change(
            &ChangeKind::TlsPin {
                pin,
                overlap_until: until,
            },
            now,
        )
        .await?;
    let detail = format!("overlap until {}", timestamp(until));
    admin
        .record(None, AdminAction::TlsPinAnnounced, &spki, Some(&detail))
        .await?;
    Ok(Rollover {
        new: spki,
        replaces: None,
        overlap_until: timestamp(until),
    })
}
