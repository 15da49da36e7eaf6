//! `admin kit provision|list|revoke|release`: kits and their one-time enrolment codes.
//!
//! Provisioning writes the **provisioning file** a kit is set up with (format in
//! `backend/README.md`): the backend URL, the server keys the kit will trust, and the
//! TLS pin of the backend's certificate (null only for plain HTTP on loopback). The
//! file is not secret; the code, printed separately, is — and only its hash is stored.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sync_protocol::api::ServerKey;
use sync_protocol::ids::{AuthorityId, KitId};
use uuid::Uuid;

use super::{timestamp, Admin, AdminError};
use crate::config::normalize_base_url;
use crate::storage::{AdminAction, KitStatus, NewKit, RevocationMode, StoreError};
use crate::tls::tls_pin;

/// The provisioning file and its format version live in the protocol crate: kits read
/// what this writes.
pub use sync_protocol::api::{Provisioning as ProvisioningFile, PROVISIONING_FORMAT};

/// The result of provisioning.
#[derive(Debug, Clone, Serialize)]
pub struct Provisioned {
    /// The id the kit will receive at enrolment.
    pub kit_id: KitId,
    /// The one-time code (shown once, stored only as a hash).
    pub code: String,
    /// When it expires.
    pub code_expires_at: String,
    /// Where the provisioning file was written, if it was.
    pub file: Option<PathBuf>,
    /// The provisioning file's content.
    pub provisioning: ProvisioningFile,
}

/// How to provision.
#[derive(Debug, Clone)]
pub struct ProvisionArgs<'a> {
    /// The authority.
    pub authority: &'a str,
    /// The kit's name.
    pub name: &'a str,
    /// The public base URL kits use.
    pub backend_url: &'a str,
    /// The backend's TLS certificate (PEM) to pin; required for `https://`.
    pub tls_cert: Option<&'a Path>,
    /// Allow `http://` to a non-loopback host (behind a TLS proxy; then `tls_cert` pins
    /// the proxy's certificate and the URL should be `https://`).
    pub insecure_allow_plain_http: bool,
    /// Lifetime of the code.
    pub code_ttl: chrono::Duration,
    /// Where to write the provisioning file.
    pub out: Out,
}

/// Where a provisioning file goes.
#[derive(Debug, Clone)]
pub enum Out {
    /// Nowhere (the caller uses [`Provisioned::provisioning`]).
    Nowhere,
    /// This file.
    File(PathBuf),
    /// `<folder>/<kit id>.json`.
    Folder(PathBuf),
}

fn is_loopback_url(url: &str) -> bool {
    let host = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or_else(|| url.split_once("://").map_or(url, |(_, r)| r), |(h, _)| h);
    host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Provisions a kit: stores it with the hash of a fresh code and writes its
/// provisioning file.
///
/// # Errors
/// [`AdminError`]: bad URL or missing certificate (5), unknown authority (3).
pub async fn provision(admin: &Admin, args: ProvisionArgs<'_>) -> Result<Provisioned, AdminError> {
    let authority_id =
        AuthorityId::parse(args.authority).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let name = args.name.trim();
    if name.is_empty() || name.len() > 128 {
        return Err(AdminError::Invalid("a kit name is 1-128 bytes".into()));
    }
    let backend_url =
        normalize_base_url(args.backend_url).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let tls_pin = match (backend_url.starts_with("https://"), args.tls_cert) {
        (_, Some(cert)) => Some(tls_pin(cert).map_err(|e| AdminError::Invalid(e.to_string()))?),
        (true, None) => {
            return Err(AdminError::Invalid(
                "an https:// backend URL needs --tls-cert to pin the server certificate".into(),
            ))
        }
        (false, None) if is_loopback_url(&backend_url) || args.insecure_allow_plain_http => None,
        (false, None) => {
            return Err(AdminError::Invalid(
                "plain http:// is allowed only to a loopback address".into(),
            ))
        }
    };
    let server_key = admin.server_key().await?;
    let now = Utc::now();
    let expires = now + args.code_ttl;
    let code = crate::codes::generate();
    let kit_id = KitId::from_uuid(Uuid::new_v4());
    let provisioning = ProvisioningFile {
        format: PROVISIONING_FORMAT.to_owned(),
        backend_url,
        authority_id: authority_id.clone(),
        kit_name: name.to_owned(),
        code_expires_at: timestamp(expires),
        server_keys: vec![ServerKey::from_key(&server_key.verifying_key())],
        tls_pin,
    };
    // The file first: if it cannot be written, nothing is stored.
    let file = match args.out {
        Out::Nowhere => None,
        Out::File(path) => Some(path),
        Out::Folder(dir) => Some(dir.join(format!("{kit_id}.json"))),
    };
    if let Some(path) = &file {
        write_file(path, &provisioning)?;
    }
    let stored = admin
        .store
        .provision_kit(&NewKit {
            kit_id,
            authority_id,
            name: name.to_owned(),
            code_hash: crate::codes::hash(&code),
            code_expires_at: expires,
            created_at: now,
        })
        .await;
    if let Err(e) = stored {
        if let Some(path) = &file {
            let _ = std::fs::remove_file(path);
        }
        return Err(e.into());
    }
    admin
        .record(
            Some(&provisioning.authority_id),
            AdminAction::KitProvisioned,
            &kit_id.to_string(),
            Some(name),
        )
        .await?;
    Ok(Provisioned {
        kit_id,
        code: code.to_string(),
        code_expires_at: timestamp(expires),
        file,
        provisioning,
    })
}

fn write_file(path: &Path, file: &ProvisioningFile) -> Result<(), AdminError> {
    let io = |source| AdminError::Io {
        path: path.display().to_string(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let mut json = serde_json::to_vec_pretty(file).unwrap_or_default();
    json.push(b'\n');
    std::fs::write(path, json).map_err(io)?;
    readable_by_all(path).map_err(io)
}

/// The provisioning file holds nothing secret (address, server keys, TLS pin) and goes to
/// another user — the clerk's laptop account — by whatever copy IT makes, which keeps the
/// mode: 0644 explicitly, not the 0600 the program's umask 077 gives every other file.
#[cfg(unix)]
fn readable_by_all(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn readable_by_all(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// A kit as listed.
#[derive(Debug, Clone, Serialize)]
pub struct KitInfo {
    /// Id.
    pub kit_id: KitId,
    /// Name given by IT staff.
    pub name: String,
    /// Authority.
    pub authority_id: String,
    /// `provisioned`, `code-expired`, `active`, `quarantined` or `revoked`.
    pub state: String,
    /// Last authenticated request.
    pub last_seen_at: Option<String>,
    /// Seq of the last record held.
    pub last_seq: Option<u64>,
    /// When enrolled.
    pub enrolled_at: Option<String>,
    /// The revocation reason.
    pub revoked_reason: Option<String>,
    /// Undelivered applications it last reported.
    pub outbox: Option<u64>,
    /// When it last reported its queue.
    pub outbox_reported_at: Option<String>,
    /// Where its queue stopped, if it reported that it did.
    pub blocked: Option<BlockedInfo>,
}

/// A blocked queue as listed (OPERATIONS.md, "blocked queue").
#[derive(Debug, Clone, Serialize)]
pub struct BlockedInfo {
    /// `chain_broken`, `cannot_resend` or `resent_record_refused` (PROTOCOL.md §6.5).
    pub reason: &'static str,
    /// The record the queue stopped at.
    pub seq: u64,
    /// Since when the kit reports it.
    pub since: String,
}

fn state_name(status: KitStatus, code_expires_at: DateTime<Utc>) -> &'static str {
    match status {
        KitStatus::Provisioned if code_expires_at <= Utc::now() => "code-expired",
        other => other.as_str(),
    }
}

/// All kits, newest first.
///
/// # Errors
/// [`AdminError`].
pub async fn list(admin: &Admin) -> Result<Vec<KitInfo>, AdminError> {
    Ok(admin
        .store
        .kits()
        .await?
        .into_iter()
        .map(|k| KitInfo {
            kit_id: k.kit_id,
            name: k.name,
            authority_id: k.authority_id.to_string(),
            state: state_name(k.status, k.code_expires_at).to_owned(),
            last_seen_at: k.last_seen_at.map(timestamp),
            last_seq: k.head.map(|h| h.seq),
            enrolled_at: k.enrolled_at.map(timestamp),
            revoked_reason: k.revoked_reason,
            outbox: k.queue.map(|q| q.outbox),
            outbox_reported_at: k.queue.map(|q| timestamp(q.reported_at)),
            blocked: k.queue.and_then(|q| q.blocked).map(|b| BlockedInfo {
                reason: b.reason.as_str(),
                seq: b.seq,
                since: timestamp(b.since),
            }),
        })
        .collect())
}

fn parse_kit(id: &str) -> Result<KitId, AdminError> {
    id.parse()
        .map_err(|_| AdminError::Invalid(format!("{id:?} is not a kit id (lower-case UUID)")))
}

/// Revokes a kit at once, without the drain and the confirmation of
/// [`revoke_with`] (for scripts and tests that set up a revoked kit): it gets 403 from
/// now on and a wipe change on its next `GET /v1/changes`.
///
/// # Errors
/// Unknown kit → exit code 3; an empty reason → 5.
pub async fn revoke(admin: &Admin, kit_id: &str, reason: &str) -> Result<(), AdminError> {
    let kit_id = parse_kit(kit_id)?;
    if reason.trim().is_empty() {
        return Err(AdminError::Invalid(
            "give a reason for the revocation".into(),
        ));
    }
    let Some(kit) = admin.store.kit(&kit_id).await? else {
        return Err(StoreError::NotFound(format!("kit {kit_id}")).into());
    };
    if !admin
        .store
        .revoke_kit(&kit_id, reason.trim(), Utc::now())
        .await?
    {
        return Err(StoreError::NotFound(format!("kit {kit_id}")).into());
    }
    admin
        .record(
            Some(&kit.authority_id),
            AdminAction::KitRevoked,
            &kit_id.to_string(),
            Some(reason.trim()),
        )
        .await
}

/// How to revoke a kit (`admin kit revoke`, the kits page).
#[derive(Debug, Clone, Copy)]
pub struct RevokeArgs<'a> {
    /// The kit.
    pub kit_id: &'a str,
    /// Why (the kit shows it with the wipe; flagged cases show it too).
    pub reason: &'a str,
    /// Drain then wipe (default), stolen (drain, every later record held), or wipe now.
    pub mode: RevocationMode,
    /// For wipe-now: the number of undelivered applications the operator confirmed,
    /// which must equal what the kit last reported (0 if it never reported).
    pub confirmed_undelivered: Option<u64>,
}

/// What a revocation did.
#[derive(Debug, Clone, Serialize)]
pub struct Revoked {
    /// The kit.
    pub kit_id: KitId,
    /// `drain`, `stolen` or `wipe-now`.
    pub mode: &'static str,
    /// The kit's standing now (`draining` or `revoked`).
    pub state: &'static str,
    /// Undelivered applications the kit last reported, if it ever did.
    pub last_reported_undelivered: Option<u64>,
}

/// The number of undelivered applications a kit last reported (0 if never) and when.
///
/// # Errors
/// Unknown kit → exit code 3.
pub async fn undelivered(
    admin: &Admin,
    kit_id: &KitId,
) -> Result<(u64, Option<DateTime<Utc>>), AdminError> {
    let revocation = admin
        .store
        .kit_revocation(kit_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("kit {kit_id}")))?;
    Ok(revocation.outbox.map_or((0, None), |(n, at)| (n, Some(at))))
}

/// Revokes a kit (PROTOCOL.md §6.5 "Revocation"). Drain and stolen let the kit push
/// what it finalized (flagged `revoked-kit`, or `held` for a second person) and wipe it
/// when it reports an empty outbox; wipe-now queues the wipe at once, only with the
/// operator's confirmation of the undelivered count the kit last reported. Audited with
/// the operator's name and the mode.
///
/// # Errors
/// Unknown kit → 3; an empty reason, or a wipe-now confirmation that does not match
/// the last report → 5; draining a quarantined kit → 4.
pub async fn revoke_with(admin: &Admin, args: RevokeArgs<'_>) -> Result<Revoked, AdminError> {
    let kit_id = parse_kit(args.kit_id)?;
    let reason = args.reason.trim();
    if reason.is_empty() {
        return Err(AdminError::Invalid(
            "give a reason for the revocation".into(),
        ));
    }
    let Some(kit) = admin.store.kit(&kit_id).await? else {
        return Err(StoreError::NotFound(format!("kit {kit_id}")).into());
    };
    let (last, at) = undelivered(admin, &kit_id).await?;
    if args.mode == RevocationMode::WipeNow && args.confirmed_undelivered != Some(last) {
        let when = at.map_or_else(
            || "never reported".to_owned(),
            |t| format!("reported {}", timestamp(t)),
        );
        return Err(AdminError::Invalid(format!(
            "wiping now destroys what the kit has not delivered: it last reported {last} \
             undelivered application(s) ({when}); confirm with --confirm-undelivered {last}, \
             or drain instead"
        )));
    }
    if !admin
        .store
        .revoke_kit_as(&kit_id, reason, args.mode, &admin.actor, Utc::now())
        .await?
    {
        return Err(StoreError::NotFound(format!("kit {kit_id}")).into());
    }
    let detail = format!("{} ({}): {reason}", args.mode.as_str(), last);
    admin
        .record(
            Some(&kit.authority_id),
            AdminAction::KitRevoked,
            &kit_id.to_string(),
            Some(&detail),
        )
        .await?;
    let state = admin
        .store
        .kit(&kit_id)
        .await?
        .map_or("revoked", |k| k.status.as_str());
    Ok(Revoked {
        kit_id,
        mode: args.mode.as_str(),
        state,
        last_reported_undelivered: at.map(|_| last),
    })
}

/// Lifts a quarantine after IT staff investigated the fork.
///
/// # Errors
/// Not a quarantined kit → exit code 3.
pub async fn release(admin: &Admin, kit_id: &str) -> Result<(), AdminError> {
    let kit_id = parse_kit(kit_id)?;
    let not_found = || StoreError::NotFound(format!("quarantined kit {kit_id}"));
    let Some(kit) = admin.store.kit(&kit_id).await? else {
        return Err(not_found().into());
    };
    if !admin.store.clear_quarantine(&kit_id).await? {
        return Err(not_found().into());
    }
    admin
        .record(
            Some(&kit.authority_id),
            AdminAction::KitReleased,
            &kit_id.to_string(),
            None,
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::is_loopback_url;

    #[test]
    fn only_loopback_hosts_count_as_loopback() {
        assert!(is_loopback_url("http://127.0.0.1:8080"));
        assert!(is_loopback_url("http://localhost"));
        assert!(is_loopback_url("http://[::1]:80"));
        assert!(!is_loopback_url("http://10.0.0.1:8080"));
        assert!(!is_loopback_url("http://fieldkit.example"));
    }
}
