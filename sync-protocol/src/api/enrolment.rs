//! Enrolment (PROTOCOL.md §6.1): the signed request, the server keys a kit will trust,
//! the answer, and the provisioning file IT staff hand out with a kit.

use chrono::{DateTime, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::dsse::{self, Envelope};
use crate::ids::{AuthorityId, KitId};
use crate::{b64, ProtocolError};
/// The signed content of an enrolment request: proof that the new kit holds the
/// private key of `kit_public_key`, bound to a one-time code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    /// Protocol version; 1.
    pub v: u32,
    /// The one-time enrolment code IT staff handed out.
    pub code: String,
    /// The kit's new ed25519 public key, base64 (32 bytes).
    pub kit_public_key: String,
    /// A name for the kit as the kit knows it (e.g. its host name).
    pub kit_name: String,
    /// The kit's clock.
    #[serde(with = "crate::time")]
    pub device_time: DateTime<Utc>,
}

impl EnrolRequest {
    /// Signs the request with the new kit key. The envelope's key id is the public key
    /// in lower-case hex, because the kit has no id yet.
    pub fn sign(&self, key: &SigningKey) -> Envelope {
        let payload = serde_json::to_vec(self).unwrap_or_default();
        dsse::sign(
            ENROL_PAYLOAD_TYPE,
            &payload,
            &hex::encode(key.verifying_key().as_bytes()),
            key,
        )
    }

    /// Verifies an enrolment envelope: the key named by the key id must verify it and
    /// be the key the request enrols.
    ///
    /// # Errors
    /// Format errors, [`ProtocolError::BadSignature`] or [`ProtocolError::WrongKeyId`].
    pub fn verify(envelope: &Envelope) -> Result<(Self, VerifyingKey), ProtocolError> {
        let keyid = envelope.claimed_keyid()?;
        let key_bytes = crate::b64::hex32::decode("signatures[0].keyid", keyid)?;
        let key = VerifyingKey::from_bytes(&key_bytes)
            .map_err(|_| ProtocolError::malformed("signatures[0].keyid", "not an ed25519 key"))?;
        let verified = envelope.verify(ENROL_PAYLOAD_TYPE, &key)?;
        let req: Self = serde_json::from_slice(&verified.payload)
            .map_err(|e| ProtocolError::malformed("enrol", e.to_string()))?;
        if b64::decode_array::<32>("kit_public_key", &req.kit_public_key)? != key_bytes {
            return Err(ProtocolError::WrongKeyId {
                expected: keyid.to_owned(),
                found: req.kit_public_key,
            });
        }
        if req.v != crate::PAYLOAD_VERSION || req.kit_name.is_empty() || req.kit_name.len() > 128 {
            return Err(ProtocolError::invalid(
                "enrol",
                "version or kit_name out of range",
            ));
        }
        Ok((req, key))
    }
}

/// `payloadType` of an enrolment request.
pub const ENROL_PAYLOAD_TYPE: &str = "application/vnd.fieldkit.enrol.v1+json";

/// A server signing key as published to kits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerKey {
    /// [`crate::receipt::ed25519_key_id`] of the key.
    pub key_id: String,
    /// The ed25519 public key, base64.
    pub public_key: String,
}

impl ServerKey {
    /// Publishes a key.
    pub fn from_key(key: &VerifyingKey) -> Self {
        Self {
            key_id: crate::receipt::ed25519_key_id(key),
            public_key: b64::encode(key.as_bytes()),
        }
    }

    /// Reads a published key, checking that its id is the one derived from it.
    ///
    /// # Errors
    /// [`ProtocolError::Malformed`] for a bad key, [`ProtocolError::WrongKeyId`] for an id
    /// that does not belong to it.
    pub fn to_key(&self) -> Result<VerifyingKey, ProtocolError> {
        let bytes = b64::decode_array::<32>("public_key", &self.public_key)?;
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| ProtocolError::malformed("public_key", "not an ed25519 key"))?;
        let derived = crate::receipt::ed25519_key_id(&key);
        if derived != self.key_id {
            return Err(ProtocolError::WrongKeyId {
                expected: derived,
                found: self.key_id.clone(),
            });
        }
        Ok(key)
    }
}

/// The `format` of provisioning files (PROTOCOL.md §6.1.1).
pub const PROVISIONING_FORMAT: &str = "fieldkit-provisioning/1";

/// What a kit pins to trust the backend's TLS certificate: either hash may match, so a
/// renewed certificate with the same key keeps working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsPin {
    /// SHA-256 of the leaf certificate's DER SubjectPublicKeyInfo, lower-case hex.
    pub spki_sha256: String,
    /// SHA-256 of the leaf certificate's DER encoding, lower-case hex.
    pub cert_sha256: String,
}

/// The provisioning file IT staff hand out with a kit. Not secret: the one-time
/// enrolment code travels separately.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provisioning {
    /// Always [`PROVISIONING_FORMAT`].
    pub format: String,
    /// The public base URL of the backend (scheme and authority).
    pub backend_url: String,
    /// The authority the kit belongs to.
    pub authority_id: AuthorityId,
    /// The name IT staff gave the kit.
    pub kit_name: String,
    /// When the enrolment code expires (timestamp, §1.3).
    pub code_expires_at: String,
    /// The keys that sign receipts and catalogs; the enrolment answer must carry the same.
    pub server_keys: Vec<ServerKey>,
    /// The backend's TLS certificate pin; `null` only for plain HTTP on loopback.
    pub tls_pin: Option<TlsPin>,
}

impl Provisioning {
    /// Parses and checks a provisioning file.
    ///
    /// # Errors
    /// [`ProtocolError::Malformed`] naming what is wrong (another format version, no
    /// or malformed server keys, a bad timestamp).
    pub fn from_json(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let p: Self = serde_json::from_slice(bytes)
            .map_err(|e| ProtocolError::malformed("provisioning", e.to_string()))?;
        if p.format != PROVISIONING_FORMAT {
            return Err(ProtocolError::malformed(
                "provisioning.format",
                format!("{:?} is not {PROVISIONING_FORMAT:?}", p.format),
            ));
        }
        if p.server_keys.is_empty() {
            return Err(ProtocolError::malformed(
                "provisioning.server_keys",
                "no server key",
            ));
        }
        for key in &p.server_keys {
            key.to_key()?;
        }
        if crate::time::parse(&p.code_expires_at).is_none() {
            return Err(ProtocolError::malformed(
                "provisioning.code_expires_at",
                "not a timestamp",
            ));
        }
        Ok(p)
    }
}

/// Response of `POST /v1/enrol`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolResponse {
    /// The id the backend assigned to the kit.
    pub kit_id: KitId,
    /// The authority the kit belongs to.
    pub authority_id: AuthorityId,
    /// The name IT staff gave the kit when provisioning.
    pub kit_name: String,
    /// Keys that sign receipts, catalogs and changes.
    pub server_keys: Vec<ServerKey>,
    /// The server's clock.
    #[serde(with = "crate::time")]
    pub server_time: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use crate::api::*;
    use crate::b64;
    use crate::ids::AuthorityId;
    use crate::ProtocolError;
    use chrono::DateTime;
    use ed25519_dalek::SigningKey;

    #[test]
    fn an_enrolment_for_another_key_than_the_signing_one_is_refused() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let other = SigningKey::from_bytes(&[4; 32]);
        let req = EnrolRequest {
            v: 1,
            code: "ABCD-EFGH".into(),
            kit_public_key: b64::encode(other.verifying_key().as_bytes()),
            kit_name: "kit".into(),
            device_time: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
        };
        assert!(matches!(
            EnrolRequest::verify(&req.sign(&key)),
            Err(ProtocolError::WrongKeyId { .. })
        ));
        let good = EnrolRequest {
            kit_public_key: b64::encode(key.verifying_key().as_bytes()),
            ..req
        };
        let (back, vk) = EnrolRequest::verify(&good.sign(&key)).expect("verifies");
        assert_eq!(back, good);
        assert_eq!(vk, key.verifying_key());
    }

    #[test]
    fn provisioning_files_are_checked_before_a_kit_trusts_them() {
        let key = ServerKey::from_key(&SigningKey::from_bytes(&[5; 32]).verifying_key());
        let good = Provisioning {
            format: PROVISIONING_FORMAT.into(),
            backend_url: "https://fieldkit.musterstadt.example".into(),
            authority_id: AuthorityId::parse("gemeinde-musterstadt").expect("id"),
            kit_name: "Bürgerkoffer 1".into(),
            code_expires_at: "2026-11-24T09:00:00.000Z".into(),
            server_keys: vec![key.clone()],
            tls_pin: None,
        };
        let json = |p: &Provisioning| serde_json::to_vec(p).expect("json");
        assert_eq!(
            Provisioning::from_json(&json(&good)).ok(),
            Some(good.clone())
        );
        let bad = [
            Provisioning {
                format: "fieldkit-provisioning/2".into(),
                ..good.clone()
            },
            Provisioning {
                server_keys: vec![],
                ..good.clone()
            },
            Provisioning {
                server_keys: vec![ServerKey {
                    key_id: "0000000000000000".into(),
                    ..key
                }],
                ..good.clone()
            },
            Provisioning {
                code_expires_at: "next week".into(),
                ..good.clone()
            },
        ];
        for p in bad {
            assert!(Provisioning::from_json(&json(&p)).is_err(), "{p:?}");
        }
        let mut extra: serde_json::Value = serde_json::to_value(&good).expect("value");
        extra["enrolment_code"] = "7KQ4-M2XP".into();
        assert!(Provisioning::from_json(&serde_json::to_vec(&extra).expect("json")).is_err());
    }

    #[test]
    fn a_server_key_with_a_foreign_id_is_refused() {
        let key = SigningKey::from_bytes(&[5; 32]).verifying_key();
        let mut published = ServerKey::from_key(&key);
        assert_eq!(published.to_key().ok(), Some(key));
        published.key_id = "0000000000000000".into();
        assert!(published.to_key().is_err());
    }
}
