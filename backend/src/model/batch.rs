//! What a batch reads from and writes to a kit's chain: the values
//! [`crate::storage::batch::BatchTx`] takes and returns, below `ingest`, `held_import`
//! and storage, which all use them.

use fieldkit_catalog::AuthorityKind;
use sync_protocol::api::Problem;
use sync_protocol::chain::ChainAnchor;
use sync_protocol::dsse::Envelope;
use sync_protocol::ids::{Ars, AuthorityId, KitId, RecordId, Sha256Hash};
use sync_protocol::record::SignedRecord;

use super::{KitStatus, NewCaseFlag, RevocationMode};

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
