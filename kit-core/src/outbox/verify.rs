//! Checking what the outbox holds: the whole local chain (every retained envelope's
//! signature and hash, the links) and every stored receipt against the enrolled server
//! keys; and the attachments of a record as the outbox tracks them.

use serde::Serialize;
use sync_protocol::chain::{verify_run, ChainFinding, ChainLink};
use sync_protocol::dsse::Envelope;
use sync_protocol::ids::Sha256Hash;
use sync_protocol::receipt::Receipt;
use sync_protocol::record::SignedRecord;

use crate::kit::Session;
use crate::KitError;

/// The result of `verify`.
#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    /// Records in the local log.
    pub records: u64,
    /// Envelopes whose signature and hash were checked (purged ones have none).
    pub signatures_checked: u64,
    /// Seqs whose envelope does not verify or does not match its stored hash.
    pub bad_records: Vec<u64>,
    /// Gaps, wrong links and forks.
    pub findings: Vec<ChainFinding>,
    /// Stored receipts checked against the trusted server keys and their record.
    pub receipts_checked: u64,
    /// Seqs whose stored receipt does not verify or names another record.
    pub bad_receipts: Vec<u64>,
}

/// An attachment of a finalized record, as the outbox tracks it.
#[derive(Debug, Clone, Serialize)]
pub struct RecordAttachment {
    /// The attachment (and upload) id.
    pub attachment_id: String,
    /// Its purpose (the catalog's attachment spec).
    pub spec_id: String,
    /// Ciphertext size, as in the signed manifest.
    pub ciphertext_size: u64,
    /// Ciphertext SHA-256 (hex), as in the signed manifest.
    pub ciphertext_sha256: String,
    /// Whether the backend holds all of it.
    pub uploaded: bool,
}

impl ChainReport {
    /// Whether the local chain is intact.
    pub fn ok(&self) -> bool {
        self.bad_records.is_empty() && self.findings.is_empty() && self.bad_receipts.is_empty()
    }
}

impl Session {
    /// Walks the whole local chain: every retained envelope must verify with the kit key
    /// and hash to its stored hash, and the links must form one unbroken chain.
    ///
    /// # Errors
    /// Database errors (a broken chain is a report, not an error).
    pub fn verify_chain(&self) -> Result<ChainReport, KitError> {
        let kit_id = self.enrolment()?.map(|e| e.kit_id);
        let key = self.kit_public_key();
        let mut stmt = self
            .conn
            .prepare("SELECT seq, hash, prev_hash, envelope FROM records ORDER BY seq")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, u64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut links = Vec::new();
        let mut bad_records = Vec::new();
        let mut checked = 0;
        for row in rows {
            let (seq, hash, prev, envelope) = row?;
            let (Ok(hash), Ok(prev_hash)) =
                (Sha256Hash::try_from(hash), Sha256Hash::try_from(prev))
            else {
                bad_records.push(seq);
                continue;
            };
            if let (Some(json), Some(kit_id)) = (envelope, kit_id) {
                checked += 1;
                let good = Envelope::from_json(json.as_bytes())
                    .and_then(|env| SignedRecord::verify(&env, kit_id, &key))
                    .is_ok_and(|r| {
                        r.hash == hash && r.record.seq == seq && r.record.prev_hash == prev_hash
                    });
                if !good {
                    bad_records.push(seq);
                }
            }
            links.push(ChainLink {
                seq,
                prev_hash,
                hash,
            });
        }
        let (receipts_checked, bad_receipts) = self.verify_receipts()?;
        Ok(ChainReport {
            records: links.len() as u64,
            signatures_checked: checked,
            bad_records,
            findings: verify_run(None, &links),
            receipts_checked,
            bad_receipts,
        })
    }

    /// Every stored receipt must verify against a trusted server key and name exactly
    /// its record (id, hash, kit, seq).
    fn verify_receipts(&self) -> Result<(u64, Vec<u64>), KitError> {
        let Some(enrolment) = self.enrolment()? else {
            return Ok((0, Vec::new()));
        };
        // Receipts signed by a key that has since been rotated out stay evidence.
        let trusted = self.trust_state()?.receipt_keys()?;
        let mut stmt = self.conn.prepare(
            "SELECT seq, record_id, hash, receipt FROM records WHERE receipt IS NOT NULL ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, u64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        let (mut checked, mut bad) = (0, Vec::new());
        for row in rows {
            let (seq, record_id, hash, receipt) = row?;
            checked += 1;
            let good = Envelope::from_json(receipt.as_bytes())
                .and_then(|env| Receipt::verify(&env, &trusted))
                .is_ok_and(|r| {
                    r.record_id.to_string() == record_id
                        && r.record_hash.to_string() == hash
                        && r.kit_id == enrolment.kit_id
                        && r.seq == seq
                });
            if !good {
                bad.push(seq);
            }
        }
        Ok((checked, bad))
    }

    /// The attachments of a finalized record.
    ///
    /// # Errors
    /// Database errors; [`KitError::NotFound`] for an unknown record.
    pub fn record_attachments(&self, record_id: &str) -> Result<Vec<RecordAttachment>, KitError> {
        self.record(record_id)?;
        let mut stmt = self.conn.prepare(
            "SELECT a.attachment_id, a.spec_id, a.ciphertext_size, a.ciphertext_sha256, a.uploaded
             FROM record_attachments a JOIN records r ON r.seq = a.record_seq
             WHERE r.record_id = ?1 ORDER BY a.attachment_id",
        )?;
        let rows = stmt.query_map([record_id], |r| {
            Ok(RecordAttachment {
                attachment_id: r.get(0)?,
                spec_id: r.get(1)?,
                ciphertext_size: r.get(2)?,
                ciphertext_sha256: r.get(3)?,
                uploaded: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
