//! Signed changes (PROTOCOL.md §6.5, protocol version 2): every entry of the changes feed
//! travels as a DSSE envelope signed by a server key, over a payload that names the kit
//! and the entry's cursor. A kit verifies each entry against the server keys it trusts
//! *before* it looks at what the entry says, so a wipe, a status or a key rollover that a
//! network attacker (or a proxy) forged or replayed from another kit's feed is refused,
//! never acted on.
//!
//! A `server_key` change is signed by the key it replaces — the one the kit already
//! trusts — every other change by the backend's current key. The kit verifies a page in
//! order, applying each rollover to its working set of keys before verifying the next
//! entry ([`PageVerifier`]).

use chrono::{DateTime, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::api::{Change, ChangeKind};
use crate::dsse::{self, Envelope};
use crate::ids::KitId;
use crate::receipt::ed25519_key_id;
use crate::record::MAX_SEQ;
use crate::ProtocolError;

/// `payloadType` of a signed change.
pub const CHANGE_PAYLOAD_TYPE: &str = "application/vnd.fieldkit.change.v2+json";

/// The `v` of a signed change.
pub const CHANGE_VERSION: u32 = 2;

/// What a signed change states: this change, at this cursor, in this kit's feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedChange {
    /// Always [`CHANGE_VERSION`].
    pub v: u32,
    /// The kit whose feed this entry belongs to.
    pub kit_id: KitId,
    /// Position in that feed.
    pub cursor: u64,
    /// When the change happened (server time).
    #[serde(with = "crate::time")]
    pub at: DateTime<Utc>,
    /// What changed.
    pub change: ChangeKind,
}

impl SignedChange {
    /// The statement for one feed entry of `kit_id`.
    pub fn new(kit_id: KitId, change: &Change) -> Self {
        Self {
            v: CHANGE_VERSION,
            kit_id,
            cursor: change.cursor,
            at: change.at,
            change: change.change.clone(),
        }
    }

    /// Serializes once and signs those bytes; the key id is [`ed25519_key_id`].
    pub fn sign(&self, server_key: &SigningKey) -> Envelope {
        // Ids, numbers, strings and timestamps always serialize.
        let payload = serde_json::to_vec(self).unwrap_or_default();
        dsse::sign(
            CHANGE_PAYLOAD_TYPE,
            &payload,
            &ed25519_key_id(&server_key.verifying_key()),
            server_key,
        )
    }

    /// The feed entry this statement describes.
    pub fn into_change(self) -> Change {
        Change {
            cursor: self.cursor,
            at: self.at,
            change: self.change,
        }
    }
}

/// Response of `GET /v1/changes` under protocol version 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedChangesPage {
    /// Signed changes with `cursor > after`, ascending, at most `limit`.
    pub changes: Vec<Envelope>,
    /// The cursor to pass as `after` next time (unchanged when the page is empty).
    pub next_cursor: u64,
    /// Whether more changes are waiting.
    pub more: bool,
}

/// A server key the verifier trusts, by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    /// [`ed25519_key_id`] of `key`.
    pub key_id: String,
    /// The key.
    pub key: VerifyingKey,
}

impl TrustedKey {
    /// Wraps a key with its derived id.
    pub fn new(key: VerifyingKey) -> Self {
        Self {
            key_id: ed25519_key_id(&key),
            key,
        }
    }
}

/// Verifies the entries of one page in order for one kit (PROTOCOL.md §6.5, "Verifying
/// a page"). It starts from the keys the kit trusts and adds each verified `server_key`
/// rollover's new key, so the entries after a rotation verify under the new key.
#[derive(Debug, Clone)]
pub struct PageVerifier {
    kit_id: KitId,
    last_cursor: u64,
    keys: Vec<TrustedKey>,
}

impl PageVerifier {
    /// A verifier for the page fetched with `after` by `kit_id`, trusting `keys`.
    pub fn new(kit_id: KitId, after: u64, keys: Vec<TrustedKey>) -> Self {
        Self {
            kit_id,
            last_cursor: after,
            keys,
        }
    }

    /// Verifies the next entry of the page and returns what it states.
    ///
    /// # Errors
    /// [`ProtocolError::WrongKeyId`] when no trusted key has the envelope's key id (an
    /// unsigned or foreign change), [`ProtocolError::BadSignature`], format errors, and
    /// [`ProtocolError::Invalid`] when the verified statement is for another kit, does
    /// not advance the cursor, or is a rollover not signed by the key it replaces.
    pub fn next(&mut self, envelope: &Envelope) -> Result<SignedChange, ProtocolError> {
        let keyid = envelope.claimed_keyid()?;
        let Some(key) = self.keys.iter().find(|k| k.key_id == keyid) else {
            return Err(ProtocolError::WrongKeyId {
                expected: "a trusted server key".to_owned(),
                found: keyid.to_owned(),
            });
        };
        let verified = envelope.verify(CHANGE_PAYLOAD_TYPE, &key.key)?;
        let signed: SignedChange = serde_json::from_slice(&verified.payload)
            .map_err(|e| ProtocolError::malformed("change", e.to_string()))?;
        if signed.v != CHANGE_VERSION {
            return Err(ProtocolError::invalid("change.v", "must be 2"));
        }
        if signed.kit_id != self.kit_id {
            return Err(ProtocolError::invalid(
                "change.kit_id",
                "the change is for another kit",
            ));
        }
        if signed.cursor <= self.last_cursor || signed.cursor > MAX_SEQ {
            return Err(ProtocolError::invalid(
                "change.cursor",
                format!(
                    "{} does not follow {} (replayed or reordered)",
                    signed.cursor, self.last_cursor
                ),
            ));
        }
        if let ChangeKind::ServerKey { key, replaces, .. } = &signed.change {
            if replaces != &verified.keyid {
                return Err(ProtocolError::invalid(
                    "change.replaces",
                    "a server key rollover must be signed by the key it replaces",
                ));
            }
            let new_key = key.to_key()?;
            if !self.keys.iter().any(|k| k.key == new_key) {
                self.keys.push(TrustedKey::new(new_key));
            }
        }
        self.last_cursor = signed.cursor;
        Ok(signed)
    }

    /// The cursor of the last entry that verified (or `after`).
    pub fn last_cursor(&self) -> u64 {
        self.last_cursor
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ServerKey;

    fn kit() -> KitId {
        "0b5a3f4e-6c1d-4e2a-9b7f-3c8d2e1f4a6b"
            .parse::<KitId>()
            .expect("kit id")
    }

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_795_000_000_000).expect("time")
    }

    fn wipe(cursor: u64) -> Change {
        Change {
            cursor,
            at: at(),
            change: ChangeKind::Wipe {
                reason: "verloren".into(),
            },
        }
    }

    #[test]
    fn a_change_verifies_for_its_kit_and_not_for_another() {
        let server = SigningKey::from_bytes(&[1; 32]);
        let env = SignedChange::new(kit(), &wipe(5)).sign(&server);
        let keys = vec![TrustedKey::new(server.verifying_key())];
        let ok = PageVerifier::new(kit(), 0, keys.clone())
            .next(&env)
            .expect("verifies");
        assert_eq!(ok.cursor, 5);
        let other: KitId = "1b5a3f4e-6c1d-4e2a-9b7f-3c8d2e1f4a6b"
            .parse()
            .expect("kit id");
        assert!(PageVerifier::new(other, 0, keys.clone())
            .next(&env)
            .is_err());
        assert!(
            PageVerifier::new(kit(), 5, keys).next(&env).is_err(),
            "a replayed cursor is refused"
        );
        let rogue = SigningKey::from_bytes(&[2; 32]);
        let forged = SignedChange::new(kit(), &wipe(6)).sign(&rogue);
        assert!(
            PageVerifier::new(kit(), 0, vec![TrustedKey::new(server.verifying_key())])
                .next(&forged)
                .is_err()
        );
    }

    #[test]
    fn a_rollover_makes_the_next_entry_verify_under_the_new_key() {
        let old = SigningKey::from_bytes(&[1; 32]);
        let new = SigningKey::from_bytes(&[3; 32]);
        let rollover = Change {
            cursor: 7,
            at: at(),
            change: ChangeKind::ServerKey {
                key: ServerKey::from_key(&new.verifying_key()),
                replaces: ed25519_key_id(&old.verifying_key()),
                overlap_until: at(),
            },
        };
        let mut verifier = PageVerifier::new(kit(), 0, vec![TrustedKey::new(old.verifying_key())]);
        verifier
            .next(&SignedChange::new(kit(), &rollover).sign(&old))
            .expect("rollover verifies");
        verifier
            .next(&SignedChange::new(kit(), &wipe(8)).sign(&new))
            .expect("signed by the new key");
        // The same rollover signed by the new key itself proves nothing.
        let mut fresh = PageVerifier::new(
            kit(),
            0,
            vec![
                TrustedKey::new(old.verifying_key()),
                TrustedKey::new(new.verifying_key()),
            ],
        );
        assert!(fresh
            .next(&SignedChange::new(kit(), &rollover).sign(&new))
            .is_err());
    }
}
