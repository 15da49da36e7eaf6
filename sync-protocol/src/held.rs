//! The held-records file (PROTOCOL.md §11): how a kit whose queue is blocked hands what
//! it holds to IT staff, and how the backend checks it before IT imports it.
//!
//! Record envelopes carry the kit's signature and receipts the server's, so each part
//! authenticates itself. What neither says — which positions of the chain the kit holds
//! without a record it can send (purged, rejected, refused), and in which state — is the
//! kit's **statement**: a small DSSE envelope signed with the kit key, listing every
//! position of the file by seq, record id and record hash. The backend only bridges a
//! position the kit signed for, and only takes an envelope or receipt whose record the
//! statement names.

use chrono::{DateTime, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::dsse::{self, Envelope};
use crate::ids::{KitId, RecordId, Sha256Hash};
use crate::receipt::Receipt;
use crate::record::MAX_SEQ;
use crate::ProtocolError;

/// `payloadType` of the kit's statement.
pub const HELD_STATEMENT_PAYLOAD_TYPE: &str = "application/vnd.fieldkit.held-records.v1+json";

/// The `format` member of a held-records file.
pub const HELD_FILE_FORMAT: &str = "fieldkit-held-records";

/// How a backend's `detail` begins when it answers a record sent to a position IT
/// staff bridged (§11.3): the kit takes it as settled, not as a refusal.
pub const BRIDGED_DETAIL_PREFIX: &str = "this position was bridged by IT staff";

/// Positions one file may list: the statement stays one envelope (§3, 2 MiB).
pub const MAX_HELD_ENTRIES: usize = 5_000;

/// Where a record stands on the kit, as the statement names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeldState {
    /// Not yet delivered.
    Pending,
    /// Delivered (the kit holds a receipt), attachments may be uploading.
    Delivered,
    /// Delivered with every attachment.
    Complete,
    /// Refused by the backend (the kit holds no receipt).
    Rejected,
    /// Delivered; the sealed data was deleted after the retention period.
    Purged,
}

/// One position of the kit's chain, as the kit states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeldEntry {
    /// Chain position.
    pub seq: u64,
    /// The record there.
    pub record_id: RecordId,
    /// Its record hash (§4.4).
    pub hash: Sha256Hash,
    /// Its state on the kit.
    pub state: HeldState,
    /// Why the backend refused it, as the kit stored it (rejected records only).
    pub problem: Option<String>,
}

/// The kit's signed statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeldStatement {
    /// Format version; 1.
    pub v: u32,
    /// The kit.
    pub kit_id: KitId,
    /// When the kit wrote it (kit clock).
    #[serde(with = "crate::time")]
    pub created_at: DateTime<Utc>,
    /// Why the kit stopped sending (the planner's reason, e.g. `cannot_resend`).
    pub blocked: String,
    /// Every position of the file, ascending by seq, without holes.
    pub entries: Vec<HeldEntry>,
}

/// What the file carries for one position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeldRecord {
    /// Chain position (names a statement entry).
    pub seq: u64,
    /// The record envelope exactly as signed, while the kit holds it.
    pub envelope: Option<Envelope>,
    /// The server's receipt, if the kit got one.
    pub receipt: Option<Envelope>,
}

/// The file as written to disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeldFile {
    /// Always [`HELD_FILE_FORMAT`].
    pub format: String,
    /// The statement, signed by the kit key (key id: the kit id).
    pub statement: Envelope,
    /// One per statement entry, in the same order.
    pub records: Vec<HeldRecord>,
}

/// One position after [`HeldFile::verify`]: the kit's word, with whatever self-
/// authenticating parts matched it.
#[derive(Debug, Clone)]
pub struct CheckedEntry {
    /// The statement's entry.
    pub entry: HeldEntry,
    /// The envelope, if the file carries one: its payload hashes to the entry's record
    /// hash (otherwise the file is refused); its signature and content are judged by
    /// the backend as for any pushed record (§4.6).
    pub envelope: Option<Envelope>,
    /// The receipt, if the file carries one and it verified against one of the
    /// backend's keys and matches the entry; `None` also when it did not verify (the
    /// reason is in `receipt_problem`).
    pub receipt: Option<(Envelope, Receipt)>,
    /// Why a carried receipt was not taken.
    pub receipt_problem: Option<String>,
}

/// A file whose statement verified.
#[derive(Debug, Clone)]
pub struct CheckedFile {
    /// The statement.
    pub statement: HeldStatement,
    /// SHA-256 of the statement's payload (for the audit trail).
    pub statement_hash: Sha256Hash,
    /// Every position, ascending.
    pub entries: Vec<CheckedEntry>,
}

impl HeldStatement {
    /// Signs the statement with the kit key into the file with `records`.
    ///
    /// # Errors
    /// [`ProtocolError::Invalid`] if the entries break the rules [`HeldFile::verify`]
    /// checks (nothing invalid is signed).
    pub fn sign_file(
        &self,
        kit_key: &SigningKey,
        records: Vec<HeldRecord>,
    ) -> Result<HeldFile, ProtocolError> {
        self.check_shape(&records)?;
        let payload = serde_json::to_vec(self)
            .map_err(|e| ProtocolError::invalid("statement", e.to_string()))?;
        Ok(HeldFile {
            format: HELD_FILE_FORMAT.to_owned(),
            statement: dsse::sign(
                HELD_STATEMENT_PAYLOAD_TYPE,
                &payload,
                &self.kit_id.to_string(),
                kit_key,
            ),
            records,
        })
    }

    fn check_shape(&self, records: &[HeldRecord]) -> Result<(), ProtocolError> {
        let bad = |reason: String| Err(ProtocolError::invalid("entries", reason));
        if self.v != 1 {
            return Err(ProtocolError::invalid("v", "version 1 expected"));
        }
        if self.entries.is_empty() || self.entries.len() > MAX_HELD_ENTRIES {
            return bad(format!(
                "{} entries; 1 to {MAX_HELD_ENTRIES} allowed",
                self.entries.len()
            ));
        }
        for (i, e) in self.entries.iter().enumerate() {
            if e.seq == 0 || e.seq > MAX_SEQ {
                return bad(format!("seq {} out of range", e.seq));
            }
            if i > 0 && e.seq != self.entries[i - 1].seq + 1 {
                return bad(format!(
                    "seq {} does not follow {}",
                    e.seq,
                    self.entries[i - 1].seq
                ));
            }
        }
        if records.len() != self.entries.len()
            || records
                .iter()
                .zip(&self.entries)
                .any(|(r, e)| r.seq != e.seq)
        {
            return bad("the records do not match the statement one to one".into());
        }
        Ok(())
    }
}

impl HeldFile {
    /// Parses a file's bytes.
    ///
    /// # Errors
    /// [`ProtocolError::Malformed`] naming what is wrong.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let file: Self = serde_json::from_slice(bytes)
            .map_err(|e| ProtocolError::malformed("held-records file", e.to_string()))?;
        if file.format != HELD_FILE_FORMAT {
            return Err(ProtocolError::malformed(
                "format",
                format!("{:?} is not {HELD_FILE_FORMAT:?}", file.format),
            ));
        }
        Ok(file)
    }

    /// Verifies the file as coming from `kit_id` (PROTOCOL.md §11.2): the statement's
    /// signature with the kit key, its shape, and that every carried envelope's payload
    /// is the record the statement names; receipts are checked against
    /// `server_keys` (every key the backend ever signed with), and one that does not
    /// verify or match is set aside with its reason rather than refusing the file.
    ///
    /// # Errors
    /// Any [`ProtocolError`] of the statement or of a carried envelope.
    pub fn verify(
        &self,
        kit_id: KitId,
        kit_key: &VerifyingKey,
        server_keys: &[VerifyingKey],
    ) -> Result<CheckedFile, ProtocolError> {
        let claimed = self.statement.claimed_keyid()?;
        if claimed != kit_id.to_string() {
            return Err(ProtocolError::WrongKeyId {
                expected: kit_id.to_string(),
                found: claimed.to_owned(),
            });
        }
        let verified = self
            .statement
            .verify(HELD_STATEMENT_PAYLOAD_TYPE, kit_key)?;
        let statement: HeldStatement = serde_json::from_slice(&verified.payload)
            .map_err(|e| ProtocolError::malformed("statement", e.to_string()))?;
        if statement.kit_id != kit_id {
            return Err(ProtocolError::WrongKeyId {
                expected: kit_id.to_string(),
                found: statement.kit_id.to_string(),
            });
        }
        statement.check_shape(&self.records)?;
        let mut entries = Vec::with_capacity(statement.entries.len());
        for (entry, held) in statement.entries.iter().zip(&self.records) {
            if let Some(envelope) = &held.envelope {
                // Bound to the statement by its payload hash only: a record the backend
                // refused for its signature or content must still reach IT as evidence.
                let payload = crate::b64::decode("records[].envelope.payload", &envelope.payload)?;
                if Sha256Hash::of(&payload) != entry.hash {
                    return Err(ProtocolError::invalid(
                        "records",
                        format!(
                            "the envelope at seq {} is not the record the statement names",
                            entry.seq
                        ),
                    ));
                }
            }
            let (receipt, receipt_problem) = match &held.receipt {
                None => (None, None),
                Some(envelope) => match Receipt::verify(envelope, server_keys) {
                    Err(e) => (None, Some(e.to_string())),
                    Ok(r)
                        if r.kit_id != kit_id
                            || r.seq != entry.seq
                            || r.record_id != entry.record_id
                            || r.record_hash != entry.hash =>
                    {
                        (None, Some("the receipt is for another record".to_owned()))
                    }
                    Ok(r) => (Some((envelope.clone(), r)), None),
                },
            };
            entries.push(CheckedEntry {
                entry: entry.clone(),
                envelope: held.envelope.clone(),
                receipt,
                receipt_problem,
            });
        }
        Ok(CheckedFile {
            statement_hash: Sha256Hash::of(&verified.payload),
            statement,
            entries,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipt::Receipt;

    fn kit() -> (SigningKey, KitId) {
        (
            SigningKey::from_bytes(&[3; 32]),
            "0b5a3f4e-6c1d-4e2a-9b7f-3c8d2e1f4a6b"
                .parse()
                .expect("kit id"),
        )
    }

    fn entry(seq: u64) -> HeldEntry {
        HeldEntry {
            seq,
            record_id: format!("01a1fd70-f1c0-7a3b-8c4d-5e6f708192{seq:02}")
                .parse()
                .expect("record id"),
            hash: Sha256Hash([seq as u8; 32]),
            state: HeldState::Purged,
            problem: None,
        }
    }

    fn statement(kit_id: KitId, seqs: &[u64]) -> HeldStatement {
        HeldStatement {
            v: 1,
            kit_id,
            created_at: DateTime::parse_from_rfc3339("2026-12-05T10:00:00Z")
                .expect("time")
                .into(),
            blocked: "cannot_resend".into(),
            entries: seqs.iter().map(|&s| entry(s)).collect(),
        }
    }

    fn records(seqs: &[u64]) -> Vec<HeldRecord> {
        seqs.iter()
            .map(|&seq| HeldRecord {
                seq,
                envelope: None,
                receipt: None,
            })
            .collect()
    }

    #[test]
    fn a_signed_file_round_trips_and_verifies_with_the_kit_key_only() {
        let (key, kit_id) = kit();
        let file = statement(kit_id, &[2, 3])
            .sign_file(&key, records(&[2, 3]))
            .expect("signs");
        let parsed =
            HeldFile::from_json(&serde_json::to_vec(&file).expect("json")).expect("parses");
        let checked = parsed
            .verify(kit_id, &key.verifying_key(), &[])
            .expect("verifies");
        assert_eq!(checked.entries.len(), 2);
        assert_eq!(checked.statement.entries[1].seq, 3);
        let other = SigningKey::from_bytes(&[4; 32]);
        assert!(matches!(
            parsed.verify(kit_id, &other.verifying_key(), &[]),
            Err(ProtocolError::BadSignature)
        ));
        let stranger: KitId = "9b5a3f4e-6c1d-4e2a-9b7f-3c8d2e1f4a6b".parse().expect("id");
        assert!(matches!(
            parsed.verify(stranger, &key.verifying_key(), &[]),
            Err(ProtocolError::WrongKeyId { .. })
        ));
    }

    #[test]
    fn holes_a_wrong_record_count_and_empty_statements_are_never_signed() {
        let (key, kit_id) = kit();
        for (seqs, recs) in [
            (&[2u64, 4][..], &[2u64, 4][..]),
            (&[2, 3][..], &[2][..]),
            (&[2, 3][..], &[2, 4][..]),
            (&[][..], &[][..]),
            (&[0][..], &[0][..]),
        ] {
            assert!(
                statement(kit_id, seqs)
                    .sign_file(&key, records(recs))
                    .is_err(),
                "{seqs:?} / {recs:?}"
            );
        }
    }

    #[test]
    fn an_unknown_member_or_format_is_malformed() {
        let (key, kit_id) = kit();
        let file = statement(kit_id, &[1])
            .sign_file(&key, records(&[1]))
            .expect("signs");
        let mut v = serde_json::to_value(&file).expect("json");
        v["extra"] = 1.into();
        assert!(HeldFile::from_json(&serde_json::to_vec(&v).expect("json")).is_err());
        let mut v = serde_json::to_value(&file).expect("json");
        v["format"] = "something-else".into();
        assert!(HeldFile::from_json(&serde_json::to_vec(&v).expect("json")).is_err());
    }

    #[test]
    fn a_receipt_by_another_key_or_for_another_record_is_set_aside_not_fatal() {
        let (key, kit_id) = kit();
        let server = SigningKey::from_bytes(&[5; 32]);
        let e = entry(1);
        let receipt = |seq: u64, by: &SigningKey| {
            Receipt {
                v: 1,
                record_id: e.record_id,
                record_hash: e.hash,
                kit_id,
                seq,
                received_at: DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
                    .expect("time")
                    .into(),
                log_position: 7,
            }
            .sign(by)
        };
        for (r, taken) in [
            (receipt(1, &server), true),
            (receipt(1, &SigningKey::from_bytes(&[6; 32])), false),
            (receipt(2, &server), false),
        ] {
            let mut recs = records(&[1]);
            recs[0].receipt = Some(r);
            let file = statement(kit_id, &[1])
                .sign_file(&key, recs)
                .expect("signs");
            let checked = file
                .verify(kit_id, &key.verifying_key(), &[server.verifying_key()])
                .expect("the file still verifies");
            assert_eq!(checked.entries[0].receipt.is_some(), taken);
            assert_eq!(checked.entries[0].receipt_problem.is_some(), !taken);
        }
    }
}
