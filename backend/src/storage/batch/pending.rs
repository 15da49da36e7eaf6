//! The rows a batch appends, held in memory until the batch ends and then written with
//! one multi-row `INSERT` per table (at most [`ROWS_PER_INSERT`](crate::storage::sql::ROWS_PER_INSERT) rows each).
//!
//! Why: measured with the ingest benchmark, a batch of 100 records cost about 500
//! statements — five round trips to the database per record — and those round trips,
//! not the database's work, bounded ingest on both SQLite (a channel hop to sqlx's
//! worker thread per statement) and PostgreSQL (a socket round trip per statement).
//! Nothing changes for what a batch decides: every read of the batch
//! ([`super::BatchTx::chain_entry`], `record_id_held`, `attachment_held`) answers from
//! these rows first, so a record later in the same batch sees the ones before it, and
//! the rows are written inside the batch's transaction before it commits — all or none.

use std::collections::{HashMap, HashSet};

use sync_protocol::ids::{AttachmentId, KitId, RecordId, Sha256Hash};

use crate::model::batch::ChainEntry;
use crate::storage::sql::{insert_rows as insert, Tx};
use crate::storage::StoreError;

/// A `records` row.
pub struct RecordRow {
    pub kit_id: String,
    pub seq: i64,
    pub record_id: String,
    pub hash: Vec<u8>,
    pub envelope: Vec<u8>,
    pub outcome: &'static str,
    pub problem: Option<String>,
    pub receipt: Option<Vec<u8>>,
    pub log_position: Option<i64>,
    pub received_at: i64,
    pub authority_id: String,
    pub form_id: String,
    pub form_version: i64,
    pub kind: String,
    pub ref_record_id: Option<String>,
}

/// A `cases` row.
pub struct CaseRow {
    pub record_id: String,
    pub authority_id: String,
    pub at: i64,
    pub kit_id: String,
    pub form_id: String,
    pub clerk_id: String,
}

/// A `case_flags` row.
pub struct FlagRow {
    pub record_id: String,
    pub flag: &'static str,
    pub reason: String,
    pub at: i64,
}

/// An `attachments` row (kept if the attachment is known already).
pub struct AttachmentRow {
    pub attachment_id: String,
    pub size: i64,
    pub sha256: Vec<u8>,
}

/// A `record_attachments` row.
pub struct LinkRow {
    pub record_id: String,
    pub attachment_id: String,
    pub position: i64,
}

/// What a batch has appended but not yet written.
#[derive(Default)]
pub struct Pending {
    records: Vec<RecordRow>,
    cases: Vec<CaseRow>,
    flags: Vec<FlagRow>,
    attachments: Vec<AttachmentRow>,
    links: Vec<LinkRow>,
    chain: HashMap<(KitId, u64), ChainEntry>,
    record_ids: HashSet<RecordId>,
    attachment_facts: HashMap<AttachmentId, (u64, Sha256Hash)>,
}

impl Pending {
    /// Holds a record row with what the batch's reads need to know of it.
    pub fn record(&mut self, row: RecordRow, kit: KitId, seq: u64, id: RecordId, e: ChainEntry) {
        self.chain.insert((kit, seq), e);
        self.record_ids.insert(id);
        self.records.push(row);
    }

    /// Holds a case row.
    pub fn case(&mut self, row: CaseRow) {
        self.cases.push(row);
    }

    /// Holds a flag row.
    pub fn flag(&mut self, row: FlagRow) {
        self.flags.push(row);
    }

    /// Holds an attachment and its link to the record.
    pub fn attachment(&mut self, id: AttachmentId, facts: (u64, Sha256Hash), a: AttachmentRow) {
        self.attachment_facts.entry(id).or_insert(facts);
        self.attachments.push(a);
    }

    /// Holds a link of a record to an attachment.
    pub fn link(&mut self, row: LinkRow) {
        self.links.push(row);
    }

    /// The chain entry appended at `seq` in this batch.
    pub fn chain_entry(&self, kit: KitId, seq: u64) -> Option<ChainEntry> {
        self.chain.get(&(kit, seq)).cloned()
    }

    /// Whether this batch appended a record with this id.
    pub fn holds_record_id(&self, id: &RecordId) -> bool {
        self.record_ids.contains(id)
    }

    /// Size and hash of an attachment this batch appended.
    pub fn attachment_facts(&self, id: &AttachmentId) -> Option<(u64, Sha256Hash)> {
        self.attachment_facts.get(id).copied()
    }

    /// Writes everything held, parents before children (the foreign keys are checked
    /// per statement on SQLite), and forgets it. [`StoreError::AlreadyExists`] when
    /// another transaction took a unique key meanwhile.
    pub async fn write(&mut self, tx: &mut Tx<'static>) -> Result<(), StoreError> {
        let Pending {
            records,
            cases,
            flags,
            attachments,
            links,
            ..
        } = std::mem::take(self);
        insert(
            tx,
            "INSERT INTO records (kit_id, seq, record_id, hash, envelope, outcome, problem,
                 receipt, log_position, received_at, authority_id, form_id, form_version,
                 kind, ref_record_id) VALUES",
            "",
            15,
            records,
            |q, r| {
                q.bind(r.kit_id)
                    .bind(r.seq)
                    .bind(r.record_id)
                    .bind(r.hash)
                    .bind(r.envelope)
                    .bind(r.outcome)
                    .bind(r.problem)
                    .bind(r.receipt)
                    .bind(r.log_position)
                    .bind(r.received_at)
                    .bind(r.authority_id)
                    .bind(r.form_id)
                    .bind(r.form_version)
                    .bind(r.kind)
                    .bind(r.ref_record_id)
            },
        )
        .await?;
        insert(
            tx,
            "INSERT INTO cases (record_id, authority_id, status, updated_at, kit_id, form_id,
                 received_at, clerk_id) VALUES",
            "",
            // `status` is the constant 'received' and `received_at` repeats `updated_at`,
            // but binding them keeps every row the same shape.
            8,
            cases,
            |q, c| {
                q.bind(c.record_id)
                    .bind(c.authority_id)
                    .bind("received")
                    .bind(c.at)
                    .bind(c.kit_id)
                    .bind(c.form_id)
                    .bind(c.at)
                    .bind(c.clerk_id)
            },
        )
        .await?;
        insert(
            tx,
            "INSERT INTO case_flags (record_id, flag, reason, raised_at) VALUES",
            "",
            4,
            flags,
            |q, f| q.bind(f.record_id).bind(f.flag).bind(f.reason).bind(f.at),
        )
        .await?;
        insert(
            tx,
            "INSERT INTO attachments (attachment_id, ciphertext_size, ciphertext_sha256,
                 created, upload_offset, complete) VALUES",
            " ON CONFLICT (attachment_id) DO NOTHING",
            6,
            attachments,
            |q, a| {
                q.bind(a.attachment_id)
                    .bind(a.size)
                    .bind(a.sha256)
                    .bind(false)
                    .bind(0_i64)
                    .bind(false)
            },
        )
        .await?;
        insert(
            tx,
            "INSERT INTO record_attachments (record_id, attachment_id, position) VALUES",
            "",
            3,
            links,
            |q, l| q.bind(l.record_id).bind(l.attachment_id).bind(l.position),
        )
        .await
    }
}
