//! The record: what a kit signs when a clerk finalizes an application, a correction or
//! a withdrawal. It carries routing metadata in the clear (so the backend can verify,
//! chain and route without decrypting) and the case itself sealed to the responsible
//! authority.
//!
//! A record is serialized to JSON once, by [`Record::sign`]; from then on the exact
//! payload bytes are what is stored, sent, hashed into the chain and verified.

use chrono::{DateTime, NaiveDate, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::attachment::{ciphertext_len, MAX_ATTACHMENT_BYTES};
use crate::dsse::{self, Envelope};
use crate::ids::{
    Ars, AttachmentId, AuthorityId, ClerkId, FormId, KitId, LeikaKey, MediaType, RecordId,
    Sha256Hash,
};
use crate::seal::SealedPayload;
use crate::ProtocolError;

/// `payloadType` of a record envelope; the `v1` is the protocol version.
pub const RECORD_PAYLOAD_TYPE: &str = "application/vnd.fieldkit.record.v1+json";

/// The largest record payload (decoded bytes) a backend accepts.
pub const MAX_RECORD_PAYLOAD_BYTES: usize = 1024 * 1024;

/// The most attachments one record may list.
pub const MAX_ATTACHMENTS: usize = 64;

/// The largest `seq` and log position: 2^53 - 1, so that every JSON reader holds it exactly.
pub const MAX_SEQ: u64 = (1 << 53) - 1;

/// What a record does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A new application.
    Application,
    /// Replaces the data of an earlier record (named in `references`).
    Correction,
    /// Withdraws an earlier record (named in `references`).
    Withdrawal,
    /// Answers a Rückfrage on an earlier record's case (named in `references`): the
    /// clerk's note and the documents the citizen supplied, for the same case.
    Supplement,
}

/// Why a file is attached, in FIT-Connect's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A rendering of the form itself, e.g. the printout the citizen signed.
    Form,
    /// Evidence supplied with the application.
    Attachment,
    /// A report about the submission.
    Report,
}

/// One attachment in a record's manifest. Its content is uploaded separately (tus);
/// the hashes here, inside the signed record, bind the upload to the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentEntry {
    /// Chosen by the kit; also the upload's id.
    pub id: AttachmentId,
    /// Why it is attached.
    pub purpose: Purpose,
    /// Media type of the plaintext.
    pub media_type: MediaType,
    /// Plaintext size in bytes.
    pub size: u64,
    /// SHA-256 of the plaintext.
    pub sha256: Sha256Hash,
    /// Ciphertext size in bytes; always [`ciphertext_len`]`(size)`.
    pub ciphertext_size: u64,
    /// SHA-256 of the ciphertext, which is what the backend stores and checks.
    pub ciphertext_sha256: Sha256Hash,
}

/// The signed content of a record envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Protocol version of this record; always 1 here.
    pub v: u32,
    /// UUIDv7 chosen by the kit.
    pub record_id: RecordId,
    /// The kit that captured and signed it.
    pub kit_id: KitId,
    /// Position in the kit's chain: dense, from 1.
    pub seq: u64,
    /// SHA-256 of the previous record's payload bytes; all zeros at seq 1.
    pub prev_hash: Sha256Hash,
    /// The kit's clock at finalize time: a claim, not a fact.
    #[serde(with = "crate::time")]
    pub device_time: DateTime<Utc>,
    /// The clerk who captured it.
    pub clerk_id: ClerkId,
    /// Application, correction, withdrawal or supplement.
    pub kind: RecordKind,
    /// For corrections, withdrawals and supplements: the record they refer to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<RecordId>,
    /// The service, by its LeiKa key.
    pub leika: LeikaKey,
    /// The catalog form the data was validated against.
    pub form_id: FormId,
    /// That form's version.
    pub form_version: u32,
    /// The authority responsible for deciding, chosen by the catalog's routing.
    pub authority_id: AuthorityId,
    /// Regionalschlüssel of the citizen's residence, the routing input.
    pub ars: Ars,
    /// The day of the visit (FIT-Connect's `applicationDate`).
    #[serde(with = "crate::time::date")]
    pub visit_date: NaiveDate,
    /// The case data, sealed to the authority.
    pub sealed: SealedPayload,
    /// The manifest of attached files.
    pub attachments: Vec<AttachmentEntry>,
}

/// A record together with the exact bytes that were signed and their hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRecord {
    /// The parsed record.
    pub record: Record,
    /// The exact payload bytes.
    pub payload: Vec<u8>,
    /// SHA-256 of `payload`: the record hash used by the chain and receipts.
    pub hash: Sha256Hash,
    /// The envelope as sent.
    pub envelope: Envelope,
}

impl Record {
    /// Checks every rule of the record model that the types alone do not.
    ///
    /// # Errors
    /// [`ProtocolError::Invalid`] naming the field that breaks a rule.
    pub fn validate(&self) -> Result<(), ProtocolError> {
        if self.v != crate::PAYLOAD_VERSION {
            return Err(ProtocolError::invalid(
                "v",
                format!("must be {}", crate::PAYLOAD_VERSION),
            ));
        }
        self.record_id.require_v7()?;
        if self.seq == 0 || self.seq > MAX_SEQ {
            return Err(ProtocolError::invalid(
                "seq",
                "must be between 1 and 2^53-1",
            ));
        }
        if (self.seq == 1) != (self.prev_hash == Sha256Hash::ZERO) {
            return Err(ProtocolError::invalid(
                "prev_hash",
                "must be all zeros exactly when seq is 1",
            ));
        }
        match (self.kind, &self.references) {
            (RecordKind::Application, None) => {}
            (RecordKind::Application, Some(_)) => {
                return Err(ProtocolError::invalid(
                    "references",
                    "an application references nothing",
                ))
            }
            (_, None) => {
                return Err(ProtocolError::invalid(
                    "references",
                    "a correction, withdrawal or supplement must name the original record",
                ))
            }
            (_, Some(original)) if *original == self.record_id => {
                return Err(ProtocolError::invalid(
                    "references",
                    "a record cannot reference itself",
                ))
            }
            (_, Some(_)) => {}
        }
        if self.form_version == 0 {
            return Err(ProtocolError::invalid("form_version", "must be at least 1"));
        }
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(ProtocolError::invalid(
                "attachments",
                format!("at most {MAX_ATTACHMENTS} attachments"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for a in &self.attachments {
            if !seen.insert(a.id) {
                return Err(ProtocolError::invalid(
                    "attachments",
                    format!("duplicate id {}", a.id),
                ));
            }
            if a.size > MAX_ATTACHMENT_BYTES {
                return Err(ProtocolError::invalid(
                    "attachments.size",
                    "larger than the limit",
                ));
            }
            if a.ciphertext_size != ciphertext_len(a.size) {
                return Err(ProtocolError::invalid(
                    "attachments.ciphertext_size",
                    "does not match the plaintext size",
                ));
            }
        }
        self.sealed.validate()
    }

    /// Serializes the record once, signs those bytes with the kit key and returns them
    /// with their hash. The envelope's key id is the kit id.
    ///
    /// # Errors
    /// [`ProtocolError::Invalid`] if the record breaks a rule; nothing invalid is signed.
    pub fn sign(self, kit_key: &SigningKey) -> Result<SignedRecord, ProtocolError> {
        self.validate()?;
        let payload = serde_json::to_vec(&self)
            .map_err(|e| ProtocolError::invalid("record", e.to_string()))?;
        if payload.len() > MAX_RECORD_PAYLOAD_BYTES {
            return Err(ProtocolError::TooLarge {
                what: "record payload",
                actual: payload.len(),
                limit: MAX_RECORD_PAYLOAD_BYTES,
            });
        }
        let envelope = dsse::sign(
            RECORD_PAYLOAD_TYPE,
            &payload,
            &self.kit_id.to_string(),
            kit_key,
        );
        Ok(SignedRecord {
            hash: Sha256Hash::of(&payload),
            record: self,
            payload,
            envelope,
        })
    }
}

impl SignedRecord {
    /// Verifies a record envelope against the kit's key, then parses and validates the
    /// signed bytes. The envelope's key id and the record's `kit_id` must both name the
    /// kit whose key verified it. This is [`SignedRecord::verify_envelope`] followed by
    /// [`SignedRecord::parse_verified`].
    ///
    /// # Errors
    /// Any [`ProtocolError`]; nothing is parsed before the signature holds.
    pub fn verify(
        envelope: &Envelope,
        kit_id: KitId,
        kit_key: &VerifyingKey,
    ) -> Result<Self, ProtocolError> {
        let payload = Self::verify_envelope(envelope, kit_id, kit_key)?;
        Self::parse_verified(payload, envelope, kit_id)
    }

    /// PROTOCOL.md §4.6 steps 1–2: the envelope names this kit, has the record type and
    /// one strictly encoded signature that verifies. Returns the signed payload bytes.
    /// A failure here is a bad signature (`bad-record-signature`).
    ///
    /// # Errors
    /// [`ProtocolError::WrongKeyId`], [`ProtocolError::WrongPayloadType`],
    /// [`ProtocolError::Malformed`] (envelope encoding) or [`ProtocolError::BadSignature`].
    pub fn verify_envelope(
        envelope: &Envelope,
        kit_id: KitId,
        kit_key: &VerifyingKey,
    ) -> Result<Vec<u8>, ProtocolError> {
        let expected_keyid = kit_id.to_string();
        let claimed = envelope.claimed_keyid()?;
        if claimed != expected_keyid {
            return Err(ProtocolError::WrongKeyId {
                expected: expected_keyid,
                found: claimed.to_owned(),
            });
        }
        Ok(envelope.verify(RECORD_PAYLOAD_TYPE, kit_key)?.payload)
    }

    /// PROTOCOL.md §4.6 steps 3–6, on payload bytes whose signature already verified:
    /// size, JSON shape, `kit_id`, and every rule of the record model. A failure here is
    /// an invalid record (`invalid-record`).
    ///
    /// # Errors
    /// [`ProtocolError::TooLarge`], [`ProtocolError::Malformed`],
    /// [`ProtocolError::WrongKeyId`] or [`ProtocolError::Invalid`].
    pub fn parse_verified(
        payload: Vec<u8>,
        envelope: &Envelope,
        kit_id: KitId,
    ) -> Result<Self, ProtocolError> {
        Self::from_verified_payload(payload, envelope.clone(), kit_id)
    }

    fn from_verified_payload(
        payload: Vec<u8>,
        envelope: Envelope,
        kit_id: KitId,
    ) -> Result<Self, ProtocolError> {
        if payload.len() > MAX_RECORD_PAYLOAD_BYTES {
            return Err(ProtocolError::TooLarge {
                what: "record payload",
                actual: payload.len(),
                limit: MAX_RECORD_PAYLOAD_BYTES,
            });
        }
        let record: Record = serde_json::from_slice(&payload)
            .map_err(|e| ProtocolError::malformed("record", e.to_string()))?;
        if record.kit_id != kit_id {
            return Err(ProtocolError::WrongKeyId {
                expected: kit_id.to_string(),
                found: record.kit_id.to_string(),
            });
        }
        record.validate()?;
        Ok(Self {
            hash: Sha256Hash::of(&payload),
            record,
            payload,
            envelope,
        })
    }
}
