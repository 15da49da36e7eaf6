//! Rows as the database returns them (plain integers, text and bytes) and their one
//! conversion into the typed rows of [`super`]: what a stored value means is decided
//! here, once.

use sqlx::any::AnyRow;
use sync_protocol::api::{Change, ChangeKind, PendingUpload, Problem, QueueBlock};
use sync_protocol::chain::ChainAnchor;
use sync_protocol::dsse::Envelope;
use sync_protocol::ids::{AuthorityId, FormId, Sha256Hash};

use super::sql::{col, col_bool};
use super::{
    from_json_text, from_ms, parse, parse_authority_kind, parse_kind, parse_status, to_32, to_u64,
    AuthorityKeyRow, AuthorityRow, BlockedQueue, CaseRow, KitRow, KitStatus, NewAuthority,
    QueueReport, Role, StoreError, UploadRow, UserRow,
};
use crate::keys::SealedAuthorityKey;
use crate::storage::batch::{ChainEntry, StoredOutcome};

/// The columns of a kit, in [`kit`] order.
pub const KIT_COLUMNS: &str = "kit_id, authority_id, name, reported_name, public_key, status, \
     revoked_reason, created_at, code_expires_at, enrolled_at, last_seen_at, head_seq, head_hash, \
     outbox_reported, outbox_reported_at, blocked_reason, blocked_seq, blocked_since";

/// An authority id as stored.
pub fn slug(s: &str) -> Result<AuthorityId, StoreError> {
    AuthorityId::parse(s).map_err(|_| StoreError::Corrupt(format!("authority id {s:?}")))
}

/// A SHA-256 hash as stored.
pub fn hash(bytes: &[u8]) -> Result<Sha256Hash, StoreError> {
    to_32(bytes).map(Sha256Hash)
}

/// A kit as [`KIT_COLUMNS`] selects it.
pub fn kit(r: &AnyRow) -> Result<KitRow, StoreError> {
    let (head_seq, head_hash): (Option<i64>, Option<Vec<u8>>) = (col(r, 11)?, col(r, 12)?);
    let head = match (head_seq, head_hash) {
        (Some(seq), Some(h)) => Some(ChainAnchor {
            seq: to_u64(seq)?,
            hash: hash(&h)?,
        }),
        _ => None,
    };
    let status: String = col(r, 5)?;
    let public_key: Option<Vec<u8>> = col(r, 4)?;
    let optional_time = |i| col::<Option<i64>>(r, i)?.map(from_ms).transpose();
    Ok(KitRow {
        kit_id: parse("kit id", &col::<String>(r, 0)?)?,
        authority_id: slug(&col::<String>(r, 1)?)?,
        name: col(r, 2)?,
        reported_name: col(r, 3)?,
        public_key: public_key.as_deref().map(to_32).transpose()?,
        status: KitStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("kit status {status:?}")))?,
        revoked_reason: col(r, 6)?,
        created_at: from_ms(col(r, 7)?)?,
        code_expires_at: from_ms(col(r, 8)?)?,
        enrolled_at: optional_time(9)?,
        last_seen_at: optional_time(10)?,
        head,
        queue: queue_report(r)?,
    })
}

/// The queue report of a kit as [`KIT_COLUMNS`] selects it (columns 13–17).
fn queue_report(r: &AnyRow) -> Result<Option<QueueReport>, StoreError> {
    let (Some(outbox), Some(at)) = (col::<Option<i64>>(r, 13)?, col::<Option<i64>>(r, 14)?) else {
        return Ok(None);
    };
    let blocked = match (
        col::<Option<String>>(r, 15)?,
        col::<Option<i64>>(r, 16)?,
        col::<Option<i64>>(r, 17)?,
    ) {
        (Some(reason), Some(seq), Some(since)) => Some(BlockedQueue {
            reason: QueueBlock::parse(&reason)
                .ok_or_else(|| StoreError::Corrupt(format!("blocked reason {reason:?}")))?,
            seq: to_u64(seq)?,
            since: from_ms(since)?,
        }),
        _ => None,
    };
    Ok(Some(QueueReport {
        outbox: to_u64(outbox)?,
        reported_at: from_ms(at)?,
        blocked,
    }))
}

/// A chain entry from the columns `hash, outcome, problem, receipt`.
pub fn chain_entry(r: &AnyRow) -> Result<ChainEntry, StoreError> {
    let hash_bytes: Vec<u8> = col(r, 0)?;
    let outcome: String = col(r, 1)?;
    let problem: Option<String> = col(r, 2)?;
    let receipt: Option<Vec<u8>> = col(r, 3)?;
    let outcome = match (outcome.as_str(), problem, receipt) {
        ("accepted", _, Some(r)) => StoredOutcome::Accepted(
            Envelope::from_json(&r).map_err(|e| StoreError::Corrupt(format!("receipt: {e}")))?,
        ),
        ("rejected", Some(p), _) => {
            StoredOutcome::Rejected(from_json_text::<Problem>("problem", &p)?)
        }
        ("bridged", Some(reason), _) => StoredOutcome::Bridged(crate::error::problem(
            sync_protocol::api::ProblemCode::Conflict,
            format!("{}: {reason}", sync_protocol::held::BRIDGED_DETAIL_PREFIX),
        )),
        _ => return Err(StoreError::Corrupt(format!("record outcome {outcome:?}"))),
    };
    Ok(ChainEntry {
        hash: hash(&hash_bytes)?,
        outcome,
    })
}

/// The columns of an authority key, in [`authority_key`] order.
pub const AUTHORITY_KEY_COLUMNS: &str =
    "authority_id, key_id, public_key, sealed_secret, created_at, retired_at";

/// An authority key as [`AUTHORITY_KEY_COLUMNS`] selects it.
pub fn authority_key(r: &AnyRow) -> Result<AuthorityKeyRow, StoreError> {
    let authority_id: String = col(r, 0)?;
    let key_id: String = col(r, 1)?;
    let public_key: Vec<u8> = col(r, 2)?;
    let sealed_secret: Vec<u8> = col(r, 3)?;
    let created_at: i64 = col(r, 4)?;
    let retired_at: Option<i64> = col(r, 5)?;
    Ok(AuthorityKeyRow {
        authority_id: slug(&authority_id)?,
        key: SealedAuthorityKey {
            key_id,
            public_key: to_32(&public_key)?,
            sealed_secret,
            created_at: from_ms(created_at)?,
        },
        retired_at: retired_at.map(from_ms).transpose()?,
    })
}

/// The columns of an upload, in [`upload`] order (records `r`, attachments `a`).
pub const UPLOAD_COLUMNS: &str = "a.attachment_id, r.record_id, a.ciphertext_size, \
     a.ciphertext_sha256, CAST(a.created AS INTEGER), a.upload_offset, \
     CAST(a.complete AS INTEGER)";

/// An upload as [`UPLOAD_COLUMNS`] selects it.
pub fn upload(r: &AnyRow) -> Result<UploadRow, StoreError> {
    Ok(UploadRow {
        attachment_id: parse("attachment id", &col::<String>(r, 0)?)?,
        record_id: parse("record id", &col::<String>(r, 1)?)?,
        length: to_u64(col(r, 2)?)?,
        ciphertext_sha256: hash(&col::<Vec<u8>>(r, 3)?)?,
        created: col_bool(r, 4)?,
        offset: to_u64(col(r, 5)?)?,
        complete: col_bool(r, 6)?,
    })
}

/// The columns of a case, in [`case`] order (records `r`, cases `c`).
pub const CASE_COLUMNS: &str = "r.record_id, r.kit_id, c.authority_id, r.form_id, \
     r.form_version, r.kind, r.ref_record_id, c.status, r.received_at, r.log_position, \
     c.clerk_id, c.assigned_to, r.seq";

/// A case as [`CASE_COLUMNS`] selects it.
pub fn case(r: &AnyRow) -> Result<CaseRow, StoreError> {
    let form_id: String = col(r, 3)?;
    let references: Option<String> = col(r, 6)?;
    Ok(CaseRow {
        record_id: parse("record id", &col::<String>(r, 0)?)?,
        kit_id: parse("kit id", &col::<String>(r, 1)?)?,
        authority_id: slug(&col::<String>(r, 2)?)?,
        form_id: FormId::parse(&form_id)
            .map_err(|_| StoreError::Corrupt(format!("form id {form_id:?}")))?,
        form_version: u32::try_from(col::<i64>(r, 4)?)
            .map_err(|_| StoreError::Corrupt("form version".into()))?,
        kind: parse_kind(&col::<String>(r, 5)?)?,
        references: references
            .as_deref()
            .map(|r| parse("record id", r))
            .transpose()?,
        status: parse_status(&col::<String>(r, 7)?)?,
        received_at: from_ms(col(r, 8)?)?,
        log_position: to_u64(col(r, 9)?)?,
        clerk_id: Some(col::<String>(r, 10)?).filter(|c| !c.is_empty()),
        assigned_to: col(r, 11)?,
        seq: to_u64(col(r, 12)?)?,
    })
}

/// A case-history entry's stored kind (`status`, `assignment` or `flag`).
pub fn event_kind(s: &str) -> Result<super::CaseEventKind, StoreError> {
    match s {
        "status" => Ok(super::CaseEventKind::Status),
        "assignment" => Ok(super::CaseEventKind::Assignment),
        "flag" => Ok(super::CaseEventKind::Flag),
        other => Err(StoreError::Corrupt(format!("case event kind {other:?}"))),
    }
}

/// A change from the columns `cursor, at, change`.
pub fn change(r: &AnyRow) -> Result<Change, StoreError> {
    let (cursor, at, change): (i64, i64, String) = (col(r, 0)?, col(r, 1)?, col(r, 2)?);
    Ok(Change {
        cursor: to_u64(cursor)?,
        at: from_ms(at)?,
        change: from_json_text::<ChangeKind>("change", &change)?,
    })
}

/// An authority from the columns `id, name, ars, kind, created_at`.
pub fn authority_row(r: &AnyRow) -> Result<AuthorityRow, StoreError> {
    let id: String = col(r, 0)?;
    let name: String = col(r, 1)?;
    let ars: Option<String> = col(r, 2)?;
    let kind: String = col(r, 3)?;
    let created_at: i64 = col(r, 4)?;
    Ok(AuthorityRow {
        authority: NewAuthority {
            id: slug(&id)?,
            name,
            ars: ars
                .map(|a| {
                    sync_protocol::ids::Ars::parse(&a)
                        .map_err(|_| StoreError::Corrupt(format!("ars {a:?}")))
                })
                .transpose()?,
            kind: parse_authority_kind(&kind)?,
        },
        created_at: from_ms(created_at)?,
    })
}

/// The columns of a user, in [`user_row`] order.
pub const USER_COLUMNS: &str = "login, authority_id, role, password_hash, \
     CAST(disabled AS INTEGER), created_at, CAST(must_change_password AS INTEGER)";

/// A user as [`USER_COLUMNS`] selects it.
pub fn user_row(r: &AnyRow) -> Result<UserRow, StoreError> {
    let authority: String = col(r, 1)?;
    let role: String = col(r, 2)?;
    let login: String = col(r, 0)?;
    let password_hash: String = col(r, 3)?;
    let disabled = col_bool(r, 4)?;
    let created_at: i64 = col(r, 5)?;
    let must_change_password = col_bool(r, 6)?;
    Ok(UserRow {
        login,
        authority_id: slug(&authority)?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        password_hash,
        disabled,
        created_at: from_ms(created_at)?,
        must_change_password,
    })
}

/// Pending uploads from `(record_id, attachment_id, offset, length)`, each attachment
/// once (a shared attachment is listed with its oldest record).
pub fn pending_uploads(
    raw: Vec<(String, String, i64, i64)>,
) -> Result<Vec<PendingUpload>, StoreError> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for (record_id, attachment_id, offset, length) in raw {
        if !seen.insert(attachment_id.clone()) {
            continue;
        }
        out.push(PendingUpload {
            record_id: parse("record id", &record_id)?,
            attachment_id: parse("attachment id", &attachment_id)?,
            offset: to_u64(offset)?,
            length: to_u64(length)?,
        });
    }
    Ok(out)
}

/// The columns of a kit as a batch needs it, in [`batch_kit`] order.
pub const BATCH_KIT_COLUMNS: &str =
    "status, head_seq, head_hash, authority_id, revocation_mode, revoked_reason";

/// A [`crate::storage::batch::BatchKit`] as [`BATCH_KIT_COLUMNS`] selects it.
pub fn batch_kit(r: &AnyRow) -> Result<crate::storage::batch::BatchKit, StoreError> {
    let status: String = col(r, 0)?;
    let head_seq: Option<i64> = col(r, 1)?;
    let head_hash: Option<Vec<u8>> = col(r, 2)?;
    let authority_id: String = col(r, 3)?;
    let revocation_mode: Option<String> = col(r, 4)?;
    let revoked_reason: Option<String> = col(r, 5)?;
    let status = KitStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("kit status {status:?}")))?;
    let head = match (head_seq, head_hash) {
        (Some(seq), Some(h)) => Some(ChainAnchor {
            seq: to_u64(seq)?,
            hash: hash(&h)?,
        }),
        _ => None,
    };
    let mode = revocation_mode
        .map(|m| {
            crate::storage::RevocationMode::parse(&m)
                .ok_or_else(|| StoreError::Corrupt(format!("revocation mode {m:?}")))
        })
        .transpose()?;
    Ok(crate::storage::batch::BatchKit {
        status,
        head,
        authority_id: slug(&authority_id)?,
        revocation: match (status, mode) {
            (KitStatus::Draining, Some(mode)) => Some((mode, revoked_reason.unwrap_or_default())),
            _ => None,
        },
    })
}

/// A case flag from the columns `flag, reason, raised_at, resolved_at, resolved_by,
/// resolution`.
pub fn case_flag(r: &AnyRow) -> Result<crate::storage::CaseFlagRow, StoreError> {
    let flag: String = col(r, 0)?;
    let resolved = match (col(r, 3)?, col(r, 4)?, col(r, 5)?) {
        (Some(at), Some(by), Some(resolution)) => Some((at, by, resolution)),
        _ => None,
    };
    let (reason, raised_at): (String, i64) = (col(r, 1)?, col(r, 2)?);
    Ok(crate::storage::CaseFlagRow {
        flag: crate::storage::CaseFlag::parse(&flag)
            .ok_or_else(|| StoreError::Corrupt(format!("case flag {flag:?}")))?,
        reason,
        raised_at: from_ms(raised_at)?,
        resolved: resolved
            .map(|(at, by, resolution)| {
                Ok::<_, StoreError>(crate::storage::FlagResolution {
                    at: from_ms(at)?,
                    by,
                    resolution,
                })
            })
            .transpose()?,
    })
}

/// An authority's area from the columns `ars, kind`.
pub fn authority_area(r: &AnyRow) -> Result<crate::storage::batch::AuthorityArea, StoreError> {
    let ars: Option<String> = col(r, 0)?;
    let kind: String = col(r, 1)?;
    Ok(crate::storage::batch::AuthorityArea {
        ars: ars
            .map(|a| {
                sync_protocol::ids::Ars::parse(&a)
                    .map_err(|_| StoreError::Corrupt(format!("ars {a:?}")))
            })
            .transpose()?,
        kind: parse_authority_kind(&kind)?,
    })
}

/// A kit's revocation from the columns `revocation_mode, revoked_by, revoked_head_seq,
/// outbox_reported, outbox_reported_at`.
pub fn kit_revocation(r: &AnyRow) -> Result<crate::storage::KitRevocation, StoreError> {
    let mode: Option<String> = col(r, 0)?;
    let revoked_by: Option<String> = col(r, 1)?;
    let head_seq: Option<i64> = col(r, 2)?;
    let outbox: Option<i64> = col(r, 3)?;
    let outbox_at: Option<i64> = col(r, 4)?;
    Ok(crate::storage::KitRevocation {
        mode: mode
            .map(|m| {
                crate::storage::RevocationMode::parse(&m)
                    .ok_or_else(|| StoreError::Corrupt(format!("revocation mode {m:?}")))
            })
            .transpose()?,
        revoked_by,
        head_seq_at_revocation: head_seq.map(to_u64).transpose()?,
        outbox: match (outbox, outbox_at) {
            (Some(n), Some(at)) => Some((to_u64(n)?, from_ms(at)?)),
            _ => None,
        },
    })
}
