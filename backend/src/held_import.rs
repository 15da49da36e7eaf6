//! Importing a blocked kit's held-records file (PROTOCOL.md §11.3), written once for both
//! stores on top of [`BatchTx`]: the way out of every state in which a kit's planner
//! stops at a record, without dropping one.
//!
//! Walking the file's positions in order inside one transaction, each position above the
//! backend's head becomes, in this order of preference:
//!
//! 1. **restored** — the kit holds this backend's own receipt and the envelope: the
//!    backend once accepted it (its signature says so), lost it (a restore) and now
//!    cannot take it again; it becomes a case with the original receipt, flagged
//!    `needs-routing` with the reason when today's checks would not place it;
//! 2. **delivered** or **chained as rejected** — an envelope the normal ingest takes
//!    (§6.3 steps 2–7), exactly as if the kit had pushed it;
//! 3. **bridged** — anything else (the envelope purged, refused and never chained, a
//!    conflict) and every record the kit holds as rejected (its clerk was told so; it
//!    must not turn into a case behind the clerk's back): the position is kept as
//!    evidence with whatever the file carried, and the chain goes on at the hash the
//!    kit signed for.
//!
//! A position at or below the head is left alone, except a record chained as rejected
//! at a resend whose receipt the kit holds: it is restored as in 1. Nothing here runs
//! unless the file's statement verified against the kit's key (`HeldFile::verify`); the
//! caller records who imported it.

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use serde::Serialize;
use sync_protocol::api::Outcome;
use sync_protocol::chain::ChainAnchor;
use sync_protocol::held::{CheckedEntry, CheckedFile, HeldState};
use sync_protocol::ids::{KitId, RecordId};

use crate::ingest::{acceptance, run_batch, BatchItem, Placement};
use crate::storage::batch::{AppendOutcome, Appended, BatchTx, Bridge, Restored, StoredOutcome};
use crate::storage::{CaseFlag, NewCaseFlag, Store, StoreError};

/// What became of one position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportAction {
    /// The backend already held it; nothing changed.
    AlreadyHeld,
    /// Accepted as a case by the normal ingest, with a new receipt.
    Delivered,
    /// Chained by the normal ingest, rejected at acceptance (§6.3 step 6).
    ChainedRejected,
    /// Taken as a case on this backend's own receipt.
    Restored,
    /// Bridged: kept as evidence, the chain goes on.
    Bridged,
}

/// One position's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PositionResult {
    /// Chain position.
    pub seq: u64,
    /// The record the kit names there.
    pub record_id: RecordId,
    /// What became of it.
    pub action: ImportAction,
    /// Why, in words for IT staff.
    pub detail: String,
}

/// The whole import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportOutcome {
    /// One per position of the file, in order.
    pub positions: Vec<PositionResult>,
    /// The kit's head afterwards.
    pub head: Option<ChainAnchor>,
}

/// A verified file with each carried envelope prepared (`ingest::prepare_one`), one
/// item per position (`None` where the file carries no envelope).
#[derive(Debug)]
pub struct PreparedFile {
    /// The verified file.
    pub file: CheckedFile,
    /// Per position, the prepared envelope.
    pub items: Vec<Option<BatchItem>>,
}

fn state_name(state: HeldState) -> &'static str {
    match state {
        HeldState::Pending => "pending",
        HeldState::Delivered => "delivered",
        HeldState::Complete => "complete",
        HeldState::Rejected => "rejected",
        HeldState::Purged => "purged",
    }
}

/// Imports a verified held-records file in one write transaction of `store`: every
/// position or none.
///
/// # Errors
/// [`StoreError::KitNotActive`] for a quarantined or revoked kit (clear the quarantine
/// first; a revoked kit's records arrive by draining); [`StoreError::Conflict`] when the
/// file starts above the position after the backend's head (export from there);
/// storage errors.
pub async fn import_held(
    store: &Store,
    kit_id: &KitId,
    prepared: PreparedFile,
    server_key: &SigningKey,
    by: &str,
    at: DateTime<Utc>,
) -> Result<ImportOutcome, StoreError> {
    let mut tx = store.begin_batch().await?;
    let outcome = import_in(&mut tx, kit_id, prepared, server_key, by, at).await;
    tx.commit(outcome).await
}

async fn import_in(
    tx: &mut BatchTx,
    kit_id: &KitId,
    prepared: PreparedFile,
    server_key: &SigningKey,
    by: &str,
    at: DateTime<Utc>,
) -> Result<ImportOutcome, StoreError> {
    let kit = tx
        .kit_for_update(kit_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("kit {kit_id}")))?;
    if !matches!(
        kit.status,
        crate::storage::KitStatus::Active | crate::storage::KitStatus::Draining
    ) {
        return Err(StoreError::KitNotActive(kit.status));
    }
    let statement_sha256 = prepared.file.statement_hash;
    let mut head = kit.head;
    let mut positions = Vec::with_capacity(prepared.items.len());
    for (checked, item) in prepared.file.entries.into_iter().zip(prepared.items) {
        let seq = checked.entry.seq;
        let held = head.map_or(0, |h| h.seq);
        let result = |action, detail: String| PositionResult {
            seq,
            record_id: checked.entry.record_id,
            action,
            detail,
        };
        if seq <= held {
            positions.push(match restore_chained(tx, &kit, &checked, item, at).await? {
                Some(detail) => result(ImportAction::Restored, detail),
                None => result(
                    ImportAction::AlreadyHeld,
                    "the backend holds this position".into(),
                ),
            });
            continue;
        }
        if seq != held + 1 {
            return Err(StoreError::Conflict(format!(
                "the file continues at seq {seq}, the backend holds up to seq {held}: \
                 export from seq {} on the kit (fieldkit export-held --from {})",
                held + 1,
                held + 1
            )));
        }
        let bridge_for = |reason: String| (reason, checked.envelope.clone());
        let bridge_reason = match item {
            // The kit told its clerk this record was refused: it stays what the clerk
            // was told — evidence, never a case behind the clerk's back.
            _ if checked.entry.state == HeldState::Rejected => bridge_for(format!(
                "rejected on the kit: {}",
                checked.entry.problem.as_deref().unwrap_or("no reason kept")
            )),
            Some(BatchItem::Verified { record, catalog }) => {
                if let Some((receipt, _)) = &checked.receipt {
                    if !tx.record_id_held(&record.record.record_id).await? {
                        let placement = place(tx, &kit, &record, &catalog).await?;
                        let log_position = tx.next_log_position().await?;
                        tx.append(
                            &Appended {
                                record: &record,
                                outcome: AppendOutcome::Accepted {
                                    receipt: receipt.clone(),
                                    log_position,
                                    inbox: placement.inbox,
                                    flags: placement.flags,
                                },
                            },
                            at,
                        )
                        .await?;
                        let anchor = ChainAnchor {
                            seq,
                            hash: record.hash,
                        };
                        tx.set_head(kit_id, anchor).await?;
                        head = Some(anchor);
                        positions.push(result(
                            ImportAction::Restored,
                            "accepted on this backend's own receipt".into(),
                        ));
                        continue;
                    }
                }
                let outcome = run_batch(
                    tx,
                    kit_id,
                    vec![BatchItem::Verified { record, catalog }],
                    server_key,
                    at,
                )
                .await?;
                let chained = outcome.head.is_some_and(|h| h.seq == seq);
                let answer = outcome.results.into_iter().next();
                let problem = answer
                    .as_ref()
                    .and_then(|r| r.problem.as_ref())
                    .map(|p| p.detail.clone());
                match (answer.map(|r| r.outcome), chained) {
                    (Some(Outcome::Accepted | Outcome::Duplicate), true) => {
                        head = outcome.head;
                        positions.push(result(
                            ImportAction::Delivered,
                            "accepted as if pushed".into(),
                        ));
                        continue;
                    }
                    (Some(Outcome::Rejected), true) => {
                        head = outcome.head;
                        positions.push(result(
                            ImportAction::ChainedRejected,
                            problem.unwrap_or_default(),
                        ));
                        continue;
                    }
                    _ => bridge_for(format!(
                        "not chainable: {}",
                        problem.unwrap_or_else(|| "refused".into())
                    )),
                }
            }
            Some(BatchItem::Unverified(p)) => bridge_for(format!("refused record: {}", p.detail)),
            None => bridge_for(format!(
                "the kit holds no envelope ({})",
                state_name(checked.entry.state)
            )),
        };
        let (reason, envelope) = bridge_reason;
        let reason = match (&checked.receipt, &checked.receipt_problem) {
            (Some((_, r)), _) => format!("{reason}; this backend's receipt of {}", r.received_at),
            (None, Some(p)) => format!("{reason}; the receipt it carried was not taken: {p}"),
            (None, None) => reason,
        };
        tx.bridge(
            &Bridge {
                kit_id: *kit_id,
                seq,
                record_id: checked.entry.record_id,
                hash: checked.entry.hash,
                reason: &reason,
                kit_state: state_name(checked.entry.state),
                envelope: envelope.map(|e| e.to_json()),
                receipt: checked.receipt.as_ref().map(|(e, _)| e.to_json()),
                statement_sha256,
                by,
            },
            at,
        )
        .await?;
        head = Some(ChainAnchor {
            seq,
            hash: checked.entry.hash,
        });
        positions.push(result(ImportAction::Bridged, reason));
    }
    Ok(ImportOutcome { positions, head })
}

/// Where a restored case lands: as today's checks place it, or — when they would refuse
/// it — in the record's authority's inbox if it is served, else the kit's own, flagged
/// `needs-routing` with why.
async fn place(
    tx: &mut BatchTx,
    kit: &crate::storage::batch::BatchKit,
    record: &sync_protocol::record::SignedRecord,
    catalog: &Result<crate::routing::Routed, String>,
) -> Result<Placement, StoreError> {
    Ok(match acceptance(tx, kit, record, catalog).await? {
        Ok(placement) => placement,
        Err(problem) => {
            let authority = &record.record.authority_id;
            let inbox = if tx.authority_area(authority).await?.is_some() {
                authority.clone()
            } else {
                kit.authority_id.clone()
            };
            Placement {
                inbox,
                flags: vec![NewCaseFlag {
                    flag: CaseFlag::NeedsRouting,
                    reason: format!(
                        "accepted on this backend's own receipt after it lost the record; \
                         today it would be refused: {}",
                        problem.detail
                    ),
                }],
            }
        }
    })
}

/// A position the backend holds as rejected, resent after the backend lost it, whose
/// receipt the kit holds: restored as a case. `None` when the position is not that.
async fn restore_chained(
    tx: &mut BatchTx,
    kit: &crate::storage::batch::BatchKit,
    checked: &CheckedEntry,
    item: Option<BatchItem>,
    at: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    let (Some((receipt, _)), Some(BatchItem::Verified { record, catalog })) =
        (&checked.receipt, item)
    else {
        return Ok(None);
    };
    let Some(stored) = tx
        .chain_entry(&record.record.kit_id, checked.entry.seq)
        .await?
    else {
        return Ok(None);
    };
    if stored.hash != record.hash || !matches!(stored.outcome, StoredOutcome::Rejected(_)) {
        return Ok(None);
    }
    let placement = place(tx, kit, &record, &catalog).await?;
    let log_position = tx.next_log_position().await?;
    tx.accept_chained(
        &Restored {
            record: &record,
            receipt: receipt.clone(),
            log_position,
            inbox: placement.inbox,
            flags: placement.flags,
        },
        at,
    )
    .await?;
    Ok(Some(
        "chained as rejected at its resend; accepted on this backend's own receipt".into(),
    ))
}
