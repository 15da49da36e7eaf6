//! Server-signed receipts: the backend's proof that it durably holds a record. A kit
//! marks a record delivered only when a receipt verifies against a server key it got at
//! enrolment *and* names exactly the record that was sent — a 200 from a captive portal
//! or a proxy is never a delivery.

use chrono::{DateTime, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dsse::{self, Envelope};
use crate::ids::{KitId, RecordId, Sha256Hash};
use crate::record::{SignedRecord, MAX_SEQ};
use crate::ProtocolError;

/// `payloadType` of a receipt envelope.
pub const RECEIPT_PAYLOAD_TYPE: &str = "application/vnd.fieldkit.receipt.v1+json";

/// The id of an ed25519 key (server or kit signing key): the first 8 bytes of SHA-256
/// of the 32-byte public key, as 16 lower-case hex digits.
pub fn ed25519_key_id(key: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(key.as_bytes())[..8])
}

/// What the server states about one record it received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Protocol version; 1.
    pub v: u32,
    /// The record.
    pub record_id: RecordId,
    /// SHA-256 of the record's payload bytes.
    pub record_hash: Sha256Hash,
    /// The kit that signed it.
    pub kit_id: KitId,
    /// Its seq in the kit's chain.
    pub seq: u64,
    /// When the server stored it: the authoritative time of the submission.
    #[serde(with = "crate::time")]
    pub received_at: DateTime<Utc>,
    /// Its position in the server's append-only log (unique per backend database).
    pub log_position: u64,
}

impl Receipt {
    /// The receipt for a record the server has just stored.
    pub fn for_record(
        record: &SignedRecord,
        received_at: DateTime<Utc>,
        log_position: u64,
    ) -> Self {
        Self {
            v: crate::PAYLOAD_VERSION,
            record_id: record.record.record_id,
            record_hash: record.hash,
            kit_id: record.record.kit_id,
            seq: record.record.seq,
            received_at,
            log_position,
        }
    }

    /// Signs the receipt with the server key; the key id is [`ed25519_key_id`].
    pub fn sign(&self, server_key: &SigningKey) -> Envelope {
        // A struct of ids, numbers and a timestamp always serializes.
        let payload = serde_json::to_vec(self).unwrap_or_default();
        dsse::sign(
            RECEIPT_PAYLOAD_TYPE,
            &payload,
            &ed25519_key_id(&server_key.verifying_key()),
            server_key,
        )
    }

    /// Verifies a receipt envelope against the server keys a kit trusts (looked up by
    /// key id) and parses it.
    ///
    /// # Errors
    /// [`ProtocolError::WrongKeyId`] when no trusted key has the envelope's key id;
    /// otherwise as [`Envelope::verify`], then parse errors.
    pub fn verify(envelope: &Envelope, trusted: &[VerifyingKey]) -> Result<Self, ProtocolError> {
        let verified = envelope.verify_with_trusted(RECEIPT_PAYLOAD_TYPE, trusted)?;
        let receipt: Receipt = serde_json::from_slice(&verified.payload)
            .map_err(|e| ProtocolError::malformed("receipt", e.to_string()))?;
        if receipt.v != crate::PAYLOAD_VERSION
            || receipt.seq == 0
            || receipt.seq > MAX_SEQ
            || receipt.log_position > MAX_SEQ
        {
            return Err(ProtocolError::invalid(
                "receipt",
                "version or seq out of range",
            ));
        }
        Ok(receipt)
    }

    /// Checks that the receipt is for exactly this record.
    ///
    /// # Errors
    /// [`ProtocolError::Invalid`] naming the first field that differs.
    pub fn require_matches(&self, record: &SignedRecord) -> Result<(), ProtocolError> {
        let r = &record.record;
        let mismatch = if self.record_id != r.record_id {
            Some("record_id")
        } else if self.record_hash != record.hash {
            Some("record_hash")
        } else if self.kit_id != r.kit_id {
            Some("kit_id")
        } else if self.seq != r.seq {
            Some("seq")
        } else {
            None
        };
        match mismatch {
            Some(field) => Err(ProtocolError::invalid(
                field,
                "receipt is for another record",
            )),
            None => Ok(()),
        }
    }
}
