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
use fieldkit_catalog::{AuthorityKind, Catalog};
use sync_protocol::api::{Outcome, Problem, ProblemCode, RecordResult};
use sync_protocol::chain::{classify_incoming, ChainAnchor, ChainLink, Incoming};
use sync_protocol::dsse::Envelope;
use sync_protocol::ids::{Ars, AttachmentId, AuthorityId, KitId, RecordId, Sha256Hash};
use sync_protocol::receipt::Receipt;
use sync_protocol::record::SignedRecord;

use crate::error::problem;
use crate::routing::Routed;
use crate::storage::{CaseFlag, KitStatus, NewCaseFlag, RevocationMode, StoreError};

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
}

/// What the backend holds at a seq of a kit's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainEntry {
    /// The record hash there.
    pub hash: Sha256Hash,
    /// What was answered when it arrived.
    pub outcome: StoredOutcome,
}

/// The original outcome of a chained record, answered again for duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredOutcome {
    /// Accepted; the receipt envelope as signed then.
    Accepted(Envelope),
    /// Chained but rejected at acceptance (§6.3 step 6); the problem as answered then.
    Rejected(Problem),
    /// A position bridged by IT staff (PROTOCOL.md §11.3): no record is held there; a
    /// kit sending the record again is answered `rejected` with this problem.
    Bridged(Problem),
}

/// Whether a sealed key id belongs to an authority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorityKey {
    /// The backend does not serve this authority.
    UnknownAuthority,
    /// The authority exists but has no key with this id.
    UnknownKey,
    /// A current or retired key of the authority.
    Known,
}

/// A record to append to its kit's chain.
#[derive(Debug)]
pub struct Appended<'a> {
    /// The record.
    pub record: &'a SignedRecord,
    /// Accepted with a receipt, or chained as rejected evidence.
    pub outcome: AppendOutcome,
}

/// How an appended record was judged.
#[derive(Debug)]
pub enum AppendOutcome {
    /// A case with a receipt.
    Accepted {
        /// The signed receipt.
        receipt: Envelope,
        /// Its log position.
        log_position: u64,
        /// Whose inbox the case lands in (the record's authority unless a flag says
        /// otherwise).
        inbox: AuthorityId,
        /// The flags the case carries from the start.
        flags: Vec<NewCaseFlag>,
    },
    /// Kept in the chain, not a case.
    Rejected(Problem),
}

/// The kit as a batch needs it, locked for the transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchKit {
    /// Its standing.
    pub status: KitStatus,
    /// The last record held.
    pub head: Option<ChainAnchor>,
    /// The authority it belongs to.
    pub authority_id: AuthorityId,
    /// How it was revoked and why, while it drains.
    pub revocation: Option<(RevocationMode, String)>,
}

/// Where an authority sits, for the routing policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorityArea {
    /// Its Regionalschlüssel (none for federal offices).
    pub ars: Option<Ars>,
    /// Its level.
    pub kind: AuthorityKind,
}

/// The database operations [`run_batch`] needs, inside one open transaction.
///
/// The futures carry no `Send` bound on purpose: SQLite runs the batch on its blocking
/// thread (its transaction is not `Sync`), and PostgreSQL calls [`run_batch`] with its
/// concrete type, whose futures are `Send` — checked where it is called.
#[allow(async_fn_in_trait)]
pub trait BatchTx {
    /// Locks the kit for the rest of the transaction; its status, head, authority and
    /// revocation.
    async fn kit_for_update(&mut self, kit: &KitId) -> Result<Option<BatchKit>, StoreError>;
    /// The area of an authority the backend serves.
    async fn authority_area(
        &mut self,
        authority: &AuthorityId,
    ) -> Result<Option<AuthorityArea>, StoreError>;
    /// The chain entry at `seq`.
    async fn chain_entry(
        &mut self,
        kit: &KitId,
        seq: u64,
    ) -> Result<Option<ChainEntry>, StoreError>;
    /// Whether any chained record has this id.
    async fn record_id_held(&mut self, id: &RecordId) -> Result<bool, StoreError>;
    /// Whether `key_id` is a key of `authority`.
    async fn authority_key(
        &mut self,
        authority: &AuthorityId,
        key_id: &str,
    ) -> Result<AuthorityKey, StoreError>;
    /// `ciphertext_size` and `ciphertext_sha256` of a held attachment.
    async fn attachment_held(
        &mut self,
        id: &AttachmentId,
    ) -> Result<Option<(u64, Sha256Hash)>, StoreError>;
    /// The next position of the append-only log.
    async fn next_log_position(&mut self) -> Result<u64, StoreError>;
    /// Stores the record; for accepted records also the case, the receipt and the
    /// manifest's attachments. The head moves with [`BatchTx::set_head`].
    async fn append(
        &mut self,
        appended: &Appended<'_>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Moves the kit's head (once per batch, after its appends: one statement instead of
    /// one per record).
    async fn set_head(&mut self, kit: &KitId, head: ChainAnchor) -> Result<(), StoreError>;
    /// Keeps a forking record as evidence (idempotent).
    async fn keep_evidence(
        &mut self,
        record: &SignedRecord,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Sets the kit's standing to quarantined.
    async fn quarantine(&mut self, kit: &KitId) -> Result<(), StoreError>;
    /// Bridges a position of the kit's chain (PROTOCOL.md §11.3): keeps the evidence
    /// and moves the head to it.
    async fn bridge(&mut self, bridge: &Bridge<'_>, at: DateTime<Utc>) -> Result<(), StoreError>;
    /// Turns a record chained as rejected into a case, on the backend's own receipt
    /// (§11.3): the receipt as signed then, a new log position, inbox and flags.
    async fn accept_chained(
        &mut self,
        restored: &Restored<'_>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// A position of a kit's chain bridged from a held-records file (PROTOCOL.md §11.3).
#[derive(Debug)]
pub struct Bridge<'a> {
    /// The kit.
    pub kit_id: KitId,
    /// The position.
    pub seq: u64,
    /// The record the kit names there.
    pub record_id: RecordId,
    /// Its hash: the kit's next record links to it.
    pub hash: Sha256Hash,
    /// Why it is bridged.
    pub reason: &'a str,
    /// The record's state on the kit.
    pub kit_state: &'a str,
    /// The sealed record envelope, if the kit still held it.
    pub envelope: Option<Vec<u8>>,
    /// This backend's receipt for it, if the kit held one that verified.
    pub receipt: Option<Vec<u8>>,
    /// SHA-256 of the kit's signed statement.
    pub statement_sha256: Sha256Hash,
    /// Who imported the file.
    pub by: &'a str,
}

/// A chained record taken as a case on the backend's own receipt.
#[derive(Debug)]
pub struct Restored<'a> {
    /// The record.
    pub record: &'a SignedRecord,
    /// The receipt exactly as the backend signed it then.
    pub receipt: Envelope,
    /// A fresh position of the append-only log.
    pub log_position: u64,
    /// Whose inbox the case lands in.
    pub inbox: AuthorityId,
    /// Its flags.
    pub flags: Vec<NewCaseFlag>,
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

pub(crate) async fn acceptance<T: BatchTx>(
    tx: &mut T,
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
async fn placement<T: BatchTx>(
    tx: &mut T,
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

/// Runs the prepared batch inside the caller's open transaction (PROTOCOL.md §6.3
/// steps 1–7). The caller commits when this returns `Ok`.
///
/// # Errors
/// [`StoreError::KitNotActive`] if the kit was revoked or quarantined since the request
/// was authenticated; otherwise storage errors (the caller rolls back).
pub async fn run_batch<T: BatchTx>(
    tx: &mut T,
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
    let mut head = kit.head;
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
    Ok(BatchOutcome { results, head })
}
