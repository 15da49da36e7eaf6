//! What happens to a pushed batch (PROTOCOL.md §6.3), written once for both stores.
//!
//! Two steps. [`prepare`] is pure and CPU-bound: it verifies every envelope against the
//! kit's key (§4.6, `SignedRecord::verify`) and checks the record's routing against
//! every published catalog version (newest first: a record captured on an older
//! catalog is judged by that catalog), before any database work. [`run_batch`] then walks the prepared items in
//! request order inside ONE database transaction, through the small [`BatchTx`]
//! interface each store implements: classify against the chain
//! (`chain::classify_incoming`), answer duplicates with the original outcome, keep forks
//! as evidence and quarantine the kit, stop at a gap, and for appended records check
//! acceptance (§6.3 step 6), decide whose inbox the case lands in and which flags it
//! carries (§6.3 "Flags": revoked kit, held, needs routing, outside routing policy),
//! sign the receipt and store record, chain step, case, flags and receipt together.

use chrono::{DateTime, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use fieldkit_catalog::Catalog;
use sync_protocol::api::{CaseStatus, Outcome, Problem, ProblemCode, RecordResult};
use sync_protocol::chain::{classify_incoming, ChainAnchor, ChainLink, Incoming};
use sync_protocol::dsse::Envelope;
use sync_protocol::ids::{AuthorityId, KitId, RecordId};
use sync_protocol::receipt::Receipt;
use sync_protocol::record::{RecordKind, SignedRecord};

use crate::error::problem;
use crate::routing::Routed;
use crate::storage::batch::{
    AppendOutcome, Appended, AuthorityKey, BatchKit, BatchTx, StoredOutcome,
};
use crate::storage::{CaseFlag, KitStatus, NewCaseFlag, RevocationMode, Store, StoreError};

/// One envelope of a batch after [`prepare`].
#[derive(Debug, Clone)]
pub enum BatchItem {
    /// The envelope failed §4.6; the problem is `bad-record-signature` or
    /// `invalid-record`. Nothing of it is stored.
    Unverified(Problem),
    /// The envelope verified.
    Verified {
        /// The record with its exact payload bytes.
        record: Box<SignedRecord>,
        /// The catalog's verdict on its routing (§6.3 step 6, catalog part).
        catalog: Result<Routed, String>,
    },
}

/// The answer to a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    /// One result per envelope, in request order.
    pub results: Vec<RecordResult>,
    /// The kit's head after the batch.
    pub head: Option<ChainAnchor>,
    /// Cases a supplement of this batch answered (their original records): moved from
    /// `needs_information` back to `in_review` once the batch is committed.
    pub answered: Vec<RecordId>,
}

/// Verifies one envelope as coming from `kit_id` (§4.6).
///
/// # Errors
/// The per-record problem: `bad-record-signature` for steps 1–2, `invalid-record` for
/// steps 3–6.
pub fn verify_envelope(
    envelope: &Envelope,
    kit_id: KitId,
    key: &VerifyingKey,
) -> Result<SignedRecord, Box<Problem>> {
    let refuse = |code, detail: String| Err(Box::new(problem(code, detail)));
    // The protocol crate separates §4.6 steps 1–2 (the envelope and its signature) from
    // steps 3–6 (the signed content), so the problem code follows the stage.
    let payload = match SignedRecord::verify_envelope(envelope, kit_id, key) {
        Ok(payload) => payload,
        Err(e) => return refuse(ProblemCode::BadRecordSignature, e.to_string()),
    };
    match SignedRecord::parse_verified(payload, envelope, kit_id) {
        Ok(record) => Ok(record),
        Err(e) => refuse(ProblemCode::InvalidRecord, e.to_string()),
    }
}

/// Verifies every envelope and judges its routing against the published catalogs
/// (`catalogs[0]` the current one, then older ones, newest first). Pure; call it off the
/// async runtime for large batches.
pub fn prepare(
    envelopes: &[Envelope],
    kit_id: KitId,
    key: &VerifyingKey,
    catalogs: &[std::sync::Arc<Catalog>],
) -> Vec<BatchItem> {
    envelopes
        .iter()
        .map(|env| prepare_one(env, kit_id, key, catalogs))
        .collect()
}

/// [`prepare`] for one envelope.
pub fn prepare_one(
    envelope: &Envelope,
    kit_id: KitId,
    key: &VerifyingKey,
    catalogs: &[std::sync::Arc<Catalog>],
) -> BatchItem {
    match verify_envelope(envelope, kit_id, key) {
        Err(p) => BatchItem::Unverified(*p),
        Ok(record) => {
            let verdict = crate::routing::judge(catalogs, &record.record);
            BatchItem::Verified {
                record: Box::new(record),
                catalog: verdict,
            }
        }
    }
}

fn result(index: usize, record_id: Option<RecordId>, outcome: Outcome) -> RecordResult {
    RecordResult {
        index,
        record_id,
        outcome,
        receipt: None,
        resend_from: None,
        problem: None,
    }
}

/// Where an accepted case lands and what it is flagged with.
#[derive(Debug)]
pub(crate) struct Placement {
    pub(crate) inbox: AuthorityId,
    pub(crate) flags: Vec<NewCaseFlag>,
}

pub(crate) async fn acceptance(
    tx: &mut BatchTx,
    kit: &BatchKit,
    record: &SignedRecord,
    catalog: &Result<Routed, String>,
) -> Result<Result<Placement, Problem>, StoreError> {
    let r = &record.record;
    let routing = |detail: String| Ok(Err(problem(ProblemCode::UnknownRouting, detail)));
    let key = tx.authority_key(&r.authority_id, &r.sealed.key_id).await?;
    if key == AuthorityKey::UnknownAuthority {
        return routing(format!(
            "authority {} is not served by this backend",
            r.authority_id
        ));
    }
    let routed = match catalog {
        Ok(routed) => routed,
        Err(detail) => return routing(detail.clone()),
    };
    if key == AuthorityKey::UnknownKey {
        return routing(format!(
            "sealed.key_id {} is not a key of authority {}",
            r.sealed.key_id, r.authority_id
        ));
    }
    if r.kind == RecordKind::Supplement {
        let original = r
            .references
            .as_ref()
            .ok_or_else(|| StoreError::Corrupt("a verified supplement without reference".into()))?;
        if !tx
            .supplementable(&r.kit_id, original, &r.authority_id)
            .await?
        {
            return Ok(Err(problem(
                ProblemCode::InvalidRecord,
                format!(
                    "a supplement must reference an accepted application or correction of \
                     this kit with a case at {}; {original} is none",
                    r.authority_id
                ),
            )));
        }
    }
    for a in &r.attachments {
        if let Some((size, hash)) = tx.attachment_held(&a.id).await? {
            if size != a.ciphertext_size || hash != a.ciphertext_sha256 {
                return Ok(Err(problem(
                    ProblemCode::InvalidRecord,
                    format!("attachment {} is held with another ciphertext", a.id),
                )));
            }
        }
    }
    placement(tx, kit, r, routed).await.map(Ok)
}

/// Decides the inbox and the flags of an accepted record (§6.3 "Flags"). Nothing here
/// rejects: a record the catalog or the policy no longer places lands with a person.
async fn placement(
    tx: &mut BatchTx,
    kit: &BatchKit,
    r: &sync_protocol::record::Record,
    routed: &Routed,
) -> Result<Placement, StoreError> {
    let mut flags = Vec::new();
    let mut inbox = r.authority_id.clone();
    if !routed.authority_current {
        inbox = if routed.receiving_current && tx.authority_area(&routed.receiving).await?.is_some()
        {
            routed.receiving.clone()
        } else {
            kit.authority_id.clone()
        };
        flags.push(NewCaseFlag {
            flag: CaseFlag::NeedsRouting,
            reason: format!(
                "{} (catalog {}) is not in the current catalog",
                r.authority_id, routed.version
            ),
        });
    } else {
        let kit_area = tx.authority_area(&kit.authority_id).await?;
        let target_area = tx.authority_area(&r.authority_id).await?;
        let allowed = match (kit_area, target_area) {
            (Some(k), Some(t)) => {
                crate::routing::policy_allows((&kit.authority_id, &k), (&r.authority_id, &t))
            }
            _ => false,
        };
        if !allowed {
            inbox = kit.authority_id.clone();
            flags.push(NewCaseFlag {
                flag: CaseFlag::OutsidePolicy,
                reason: format!(
                    "a kit of {} may not route cases to {}",
                    kit.authority_id, r.authority_id
                ),
            });
        }
    }
    match &kit.revocation {
        Some((RevocationMode::Drain, reason)) => flags.push(NewCaseFlag {
            flag: CaseFlag::RevokedKit,
            reason: reason.clone(),
        }),
        // Every record appended now is above the head held at revocation: the chain
        // only grows, and the revocation happened before this transaction.
        Some((RevocationMode::Stolen, reason)) => flags.push(NewCaseFlag {
            flag: CaseFlag::Held,
            reason: reason.clone(),
        }),
        Some((RevocationMode::WipeNow, _)) | None => {}
    }
    Ok(Placement { inbox, flags })
}

/// Runs a prepared batch in one write transaction of `store` (PROTOCOL.md §6.3): all of
/// its outcomes are committed together, or none.
///
/// # Errors
/// As [`run_batch`]; nothing is committed then.
pub async fn push_batch(
    store: &Store,
    kit_id: &KitId,
    items: Vec<BatchItem>,
    server_key: &SigningKey,
    at: DateTime<Utc>,
) -> Result<BatchOutcome, StoreError> {
    let mut tx = store.begin_batch().await?;
    let outcome = run_batch(&mut tx, kit_id, items, server_key, at).await;
    let outcome = tx.commit(outcome).await?;
    // After the commit, in a transaction of its own: the answer is stored whatever
    // happens here, and the case page shows it; a case a reviewer moved on meanwhile
    // (not waiting any more) is left alone.
    for original in &outcome.answered {
        let moved = store
            .transition_case(
                original,
                CaseStatus::NeedsInformation,
                CaseStatus::InReview,
                Some("Rückfrage vom Kit beantwortet (Nachreichung)"),
                &format!("kit {kit_id}"),
                at,
            )
            .await;
        if let Err(e) = moved {
            tracing::warn!(record_id = %original, error = %e, "answered case not moved back to review");
        }
    }
    Ok(outcome)
}

/// Runs the prepared batch inside the caller's open transaction (PROTOCOL.md §6.3
/// steps 1–7). The caller commits when this returns `Ok`.
///
/// # Errors
/// [`StoreError::KitNotActive`] if the kit was revoked or quarantined since the request
/// was authenticated; otherwise storage errors (the caller rolls back).
pub(crate) async fn run_batch(
    tx: &mut BatchTx,
    kit_id: &KitId,
    items: Vec<BatchItem>,
    server_key: &SigningKey,
    at: DateTime<Utc>,
) -> Result<BatchOutcome, StoreError> {
    let kit = tx
        .kit_for_update(kit_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("kit {kit_id}")))?;
    if !matches!(kit.status, KitStatus::Active | KitStatus::Draining) {
        return Err(StoreError::KitNotActive(kit.status));
    }
    let verified: Vec<RecordId> = items
        .iter()
        .filter_map(|i| match i {
            BatchItem::Verified { record, .. } => Some(record.record.record_id),
            BatchItem::Unverified(_) => None,
        })
        .collect();
    tx.expect_appends(verified.len());
    tx.look_up_record_ids(&verified).await?;
    let mut head = kit.head;
    let mut answered = Vec::new();
    let mut results = Vec::with_capacity(items.len());
    let mut sticky_gap: Option<u64> = None;
    for (index, item) in items.into_iter().enumerate() {
        if let Some(resend_from) = sticky_gap {
            results.push(RecordResult {
                resend_from: Some(resend_from),
                ..result(index, None, Outcome::Gap)
            });
            continue;
        }
        let (record, catalog) = match item {
            BatchItem::Unverified(p) => {
                results.push(RecordResult {
                    problem: Some(p),
                    ..result(index, None, Outcome::Rejected)
                });
                continue;
            }
            BatchItem::Verified { record, catalog } => (record, catalog),
        };
        let id = record.record.record_id;
        let link = ChainLink::from(record.as_ref());
        let stored = match head {
            Some(h) if link.seq <= h.seq => tx.chain_entry(kit_id, link.seq).await?,
            _ => None,
        };
        let conflict = |detail: String| RecordResult {
            problem: Some(problem(ProblemCode::Conflict, detail)),
            ..result(index, Some(id), Outcome::Conflict)
        };
        match classify_incoming(head, stored.as_ref().map(|s| s.hash), &link) {
            Incoming::Duplicate => {
                results.push(match stored.map(|s| s.outcome) {
                    Some(StoredOutcome::Accepted(receipt)) => RecordResult {
                        receipt: Some(receipt),
                        ..result(index, Some(id), Outcome::Duplicate)
                    },
                    Some(StoredOutcome::Rejected(p) | StoredOutcome::Bridged(p)) => RecordResult {
                        problem: Some(p),
                        ..result(index, Some(id), Outcome::Rejected)
                    },
                    None => return Err(StoreError::Corrupt("duplicate without entry".into())),
                });
            }
            Incoming::Fork => {
                tx.keep_evidence(&record, at).await?;
                tx.quarantine(kit_id).await?;
                results.push(conflict(format!(
                    "seq {} already holds another record; both are kept as evidence and \
                     the kit is quarantined",
                    link.seq
                )));
            }
            Incoming::Gap { resend_from } => {
                sticky_gap = Some(resend_from);
                results.push(RecordResult {
                    resend_from: Some(resend_from),
                    ..result(index, Some(id), Outcome::Gap)
                });
            }
            Incoming::WrongLink => results.push(conflict(format!(
                "prev_hash does not name the record held at seq {}",
                link.seq.saturating_sub(1)
            ))),
            Incoming::Append => {
                if tx.record_id_held(&id).await? {
                    results.push(conflict(
                        "record_id is already held with other bytes".to_owned(),
                    ));
                    continue;
                }
                let outcome = match acceptance(tx, &kit, &record, &catalog).await? {
                    Err(p) => AppendOutcome::Rejected(p),
                    Ok(Placement { inbox, flags }) => {
                        let log_position = tx.next_log_position().await?;
                        let receipt = Receipt::for_record(&record, at, log_position);
                        AppendOutcome::Accepted {
                            receipt: receipt.sign(server_key),
                            log_position,
                            inbox,
                            flags,
                        }
                    }
                };
                let appended = Appended {
                    record: &record,
                    outcome,
                };
                tx.append(&appended, at).await?;
                head = Some(ChainAnchor {
                    seq: link.seq,
                    hash: link.hash,
                });
                if let (AppendOutcome::Accepted { .. }, RecordKind::Supplement, Some(original)) = (
                    &appended.outcome,
                    record.record.kind,
                    record.record.references,
                ) {
                    answered.push(original);
                }
                results.push(match appended.outcome {
                    AppendOutcome::Accepted { receipt, .. } => RecordResult {
                        receipt: Some(receipt),
                        ..result(index, Some(id), Outcome::Accepted)
                    },
                    AppendOutcome::Rejected(p) => RecordResult {
                        problem: Some(p),
                        ..result(index, Some(id), Outcome::Rejected)
                    },
                });
            }
        }
    }
    if head != kit.head {
        if let Some(anchor) = head {
            tx.set_head(kit_id, anchor).await?;
        }
    }
    Ok(BatchOutcome {
        results,
        head,
        answered,
    })
}
