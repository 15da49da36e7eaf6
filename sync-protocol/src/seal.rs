//! Sealing case payloads to the responsible authority with HPKE (RFC 9180), base mode,
//! suite DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20-Poly1305.
//!
//! The kit seals; the backend stores the sealed bytes without being able to read them;
//! only the authority's key (held by the backend for that authority's reviewers)
//! opens them. The record's identity is the associated data, so a sealed payload cannot
//! be moved into another record or to another authority's case.

use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable as _, Kem as _, OpModeR, OpModeS, Serializable as _};
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::ids::{AttachmentId, AuthorityId, KitId, RecordId};
use crate::{b64, ProtocolError};

/// The suite identifier written into every sealed payload.
pub const HPKE_SUITE: &str = "DHKEM-X25519-HKDF-SHA256/HKDF-SHA256/ChaCha20-Poly1305";

/// HPKE `info` for case payloads.
pub const HPKE_INFO: &[u8] = b"fieldkit/v1 case payload";

/// The largest sealed plaintext (a case's form data and attachment keys).
pub const MAX_CASE_BYTES: usize = 512 * 1024;

type Kem = X25519HkdfSha256;

/// An authority's X25519 public key, as published in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthorityPublicKey(pub [u8; 32]);

/// An authority's X25519 private key. Zeroized on drop; never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct AuthoritySecretKey([u8; 32]);

impl std::fmt::Debug for AuthoritySecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthoritySecretKey(<redacted>)")
    }
}

impl AuthorityPublicKey {
    /// The key id: the first 8 bytes of SHA-256 of the public key, as 16 hex digits.
    /// Derived, so a kit and a backend cannot disagree about it.
    pub fn key_id(&self) -> String {
        hex::encode(&Sha256::digest(self.0)[..8])
    }
}

impl AuthoritySecretKey {
    /// Wraps raw private key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes, for storing encrypted at rest.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0)
    }

    /// The matching public key.
    ///
    /// # Errors
    /// [`ProtocolError::Seal`] if the bytes are not a valid X25519 private key.
    pub fn public_key(&self) -> Result<AuthorityPublicKey, ProtocolError> {
        let sk = <Kem as hpke::Kem>::PrivateKey::from_bytes(&self.0)
            .map_err(|e| ProtocolError::Seal(format!("{e:?}")))?;
        let pk = <Kem as hpke::Kem>::sk_to_pk(&sk);
        Ok(AuthorityPublicKey(pk.to_bytes().into()))
    }
}

/// Generates an authority key pair (RFC 9180 `GenerateKeyPair`).
pub fn generate_authority_keypair<R: CryptoRng + RngCore>(
    rng: &mut R,
) -> (AuthoritySecretKey, AuthorityPublicKey) {
    let (sk, pk) = Kem::gen_keypair(rng);
    (
        AuthoritySecretKey(sk.to_bytes().into()),
        AuthorityPublicKey(pk.to_bytes().into()),
    )
}

/// Derives an authority key pair from input keying material (RFC 9180 `DeriveKeyPair`),
/// for test vectors.
pub fn derive_authority_keypair(ikm: &[u8]) -> (AuthoritySecretKey, AuthorityPublicKey) {
    let (sk, pk) = Kem::derive_keypair(ikm);
    (
        AuthoritySecretKey(sk.to_bytes().into()),
        AuthorityPublicKey(pk.to_bytes().into()),
    )
}

/// A sealed payload as it appears in a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedPayload {
    /// Always [`HPKE_SUITE`].
    pub suite: String,
    /// [`AuthorityPublicKey::key_id`] of the key it was sealed to.
    pub key_id: String,
    /// The HPKE encapsulated key (32 bytes), base64.
    pub enc: String,
    /// The ciphertext with its 16-byte tag, base64.
    pub ct: String,
}

impl SealedPayload {
    /// Checks the suite and the encodings.
    ///
    /// # Errors
    /// [`ProtocolError::Invalid`] or [`ProtocolError::Malformed`].
    pub fn validate(&self) -> Result<(), ProtocolError> {
        if self.suite != HPKE_SUITE {
            return Err(ProtocolError::invalid(
                "sealed.suite",
                format!("must be {HPKE_SUITE}"),
            ));
        }
        if self.key_id.len() != 16
            || !self
                .key_id
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(ProtocolError::malformed(
                "sealed.key_id",
                "expected 16 lower-case hex digits",
            ));
        }
        b64::decode_array::<32>("sealed.enc", &self.enc)?;
        let ct = b64::decode("sealed.ct", &self.ct)?;
        if ct.len() < 16 {
            return Err(ProtocolError::malformed(
                "sealed.ct",
                "shorter than the AEAD tag",
            ));
        }
        Ok(())
    }
}

/// The associated data binding a sealed case to its record:
/// `fieldkit/v1 record:<record_id>:<kit_id>:<authority_id>` in UTF-8.
pub fn case_aad(record_id: &RecordId, kit_id: &KitId, authority_id: &AuthorityId) -> Vec<u8> {
    format!("fieldkit/v1 record:{record_id}:{kit_id}:{authority_id}").into_bytes()
}

/// Seals plaintext to an authority key.
///
/// # Errors
/// [`ProtocolError::TooLarge`] past [`MAX_CASE_BYTES`]; [`ProtocolError::Seal`] for an
/// invalid public key.
pub fn seal<R: CryptoRng + RngCore>(
    recipient: &AuthorityPublicKey,
    aad: &[u8],
    plaintext: &[u8],
    rng: &mut R,
) -> Result<SealedPayload, ProtocolError> {
    if plaintext.len() > MAX_CASE_BYTES {
        return Err(ProtocolError::TooLarge {
            what: "case payload",
            actual: plaintext.len(),
            limit: MAX_CASE_BYTES,
        });
    }
    let pk = <Kem as hpke::Kem>::PublicKey::from_bytes(&recipient.0)
        .map_err(|e| ProtocolError::Seal(format!("{e:?}")))?;
    let (enc, ct) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, Kem, R>(
        &OpModeS::Base,
        &pk,
        HPKE_INFO,
        plaintext,
        aad,
        rng,
    )
    .map_err(|e| ProtocolError::Seal(format!("{e:?}")))?;
    Ok(SealedPayload {
        suite: HPKE_SUITE.to_owned(),
        key_id: recipient.key_id(),
        enc: b64::encode(enc.to_bytes()),
        ct: b64::encode(ct),
    })
}

/// Opens a sealed payload with the authority's private key.
///
/// # Errors
/// [`ProtocolError::DecryptionFailed`] for a wrong key, wrong AAD or altered bytes;
/// format errors from [`SealedPayload::validate`].
pub fn open(
    secret: &AuthoritySecretKey,
    sealed: &SealedPayload,
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, ProtocolError> {
    sealed.validate()?;
    let enc_bytes = b64::decode_array::<32>("sealed.enc", &sealed.enc)?;
    let ct = b64::decode("sealed.ct", &sealed.ct)?;
    let sk = <Kem as hpke::Kem>::PrivateKey::from_bytes(&secret.0)
        .map_err(|_| ProtocolError::DecryptionFailed)?;
    let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&enc_bytes)
        .map_err(|_| ProtocolError::DecryptionFailed)?;
    hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
        &OpModeR::Base,
        &sk,
        &enc,
        HPKE_INFO,
        &ct,
        aad,
    )
    .map(Zeroizing::new)
    .map_err(|_| ProtocolError::DecryptionFailed)
}

/// Runs HPKE single-shot sealing with an explicit `info`, for the RFC 9180 test vectors.
/// Production code uses [`seal`], which fixes `info`.
///
/// # Errors
/// [`ProtocolError::Seal`] for an invalid public key.
pub fn seal_with_info<R: CryptoRng + RngCore>(
    recipient: &AuthorityPublicKey,
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    rng: &mut R,
) -> Result<([u8; 32], Vec<u8>), ProtocolError> {
    let pk = <Kem as hpke::Kem>::PublicKey::from_bytes(&recipient.0)
        .map_err(|e| ProtocolError::Seal(format!("{e:?}")))?;
    let (enc, ct) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, Kem, R>(
        &OpModeS::Base,
        &pk,
        info,
        plaintext,
        aad,
        rng,
    )
    .map_err(|e| ProtocolError::Seal(format!("{e:?}")))?;
    Ok((enc.to_bytes().into(), ct))
}

/// The plaintext sealed inside a record: the form data and the keys of the attachments.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasePayload {
    /// The form data, validated by the kit against the record's form version.
    pub form_data: serde_json::Value,
    /// One key per attachment in the record's manifest.
    pub attachment_keys: Vec<AttachmentKey>,
    /// What the attachments are, for the reviewer: at most one entry per manifest
    /// attachment (older kits send none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentLabel>,
}

/// What one attachment is. Sealed, because a file name is the citizen's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentLabel {
    /// The manifest entry it describes.
    pub attachment_id: AttachmentId,
    /// The catalog's attachment kind (e.g. `landlord-confirmation`), whose label the
    /// back office shows.
    pub kind: String,
    /// The file's name as the clerk picked the file, [`crate::file_name::sanitize`]d;
    /// absent for files the kit made itself (the signed printout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
}

impl std::fmt::Debug for CasePayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Personal data never reaches a log through Debug.
        f.debug_struct("CasePayload")
            .field("form_data", &"<redacted>")
            .field("attachment_keys", &self.attachment_keys.len())
            .field("attachments", &self.attachments.len())
            .finish()
    }
}

/// The key material of one attachment (see [`crate::attachment`]).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentKey {
    /// The attachment this key opens.
    pub attachment_id: AttachmentId,
    /// 32-byte ChaCha20-Poly1305 key, base64.
    pub key: String,
    /// 7-byte STREAM nonce prefix, base64.
    pub nonce_prefix: String,
}

impl std::fmt::Debug for AttachmentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AttachmentKey({}, <redacted>)", self.attachment_id)
    }
}

impl CasePayload {
    /// Parses an opened case payload.
    ///
    /// # Errors
    /// [`ProtocolError::Malformed`] if the JSON does not have the case shape.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let case: Self = serde_json::from_slice(bytes)
            .map_err(|e| ProtocolError::malformed("case", e.to_string()))?;
        if !case.form_data.is_object() {
            return Err(ProtocolError::malformed(
                "case.form_data",
                "must be a JSON object",
            ));
        }
        Ok(case)
    }

    /// Checks that the payload carries exactly one key for every attachment in the
    /// record's manifest, and no others, and labels only for manifest attachments, at
    /// most one each.
    ///
    /// # Errors
    /// [`ProtocolError::Invalid`] naming the first attachment without a key, key
    /// without an attachment, or label without one.
    pub fn require_keys_match(
        &self,
        manifest: &[crate::record::AttachmentEntry],
    ) -> Result<(), ProtocolError> {
        use std::collections::BTreeSet;
        let keys: BTreeSet<_> = self
            .attachment_keys
            .iter()
            .map(|k| k.attachment_id)
            .collect();
        let listed: BTreeSet<_> = manifest.iter().map(|a| a.id).collect();
        if keys.len() != self.attachment_keys.len() {
            return Err(ProtocolError::invalid(
                "case.attachment_keys",
                "an attachment has two keys",
            ));
        }
        if let Some(missing) = listed.difference(&keys).next() {
            return Err(ProtocolError::invalid(
                "case.attachment_keys",
                format!("no key for attachment {missing}"),
            ));
        }
        if let Some(extra) = keys.difference(&listed).next() {
            return Err(ProtocolError::invalid(
                "case.attachment_keys",
                format!("key for unlisted attachment {extra}"),
            ));
        }
        let mut labelled = BTreeSet::new();
        for label in &self.attachments {
            if !listed.contains(&label.attachment_id) {
                return Err(ProtocolError::invalid(
                    "case.attachments",
                    format!("label for unlisted attachment {}", label.attachment_id),
                ));
            }
            if !labelled.insert(label.attachment_id) {
                return Err(ProtocolError::invalid(
                    "case.attachments",
                    format!("attachment {} has two labels", label.attachment_id),
                ));
            }
        }
        Ok(())
    }

    /// The label of attachment `id`, with its file name sanitized again: whoever shows
    /// a name trusts no kit to have done it.
    pub fn label_of(&self, id: AttachmentId) -> Option<AttachmentLabel> {
        self.attachments
            .iter()
            .find(|l| l.attachment_id == id)
            .map(|l| AttachmentLabel {
                file_name: l.file_name.as_deref().and_then(crate::file_name::sanitize),
                ..l.clone()
            })
    }

    /// Serializes the case payload for sealing.
    pub fn to_json(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(serde_json::to_vec(self).unwrap_or_default())
    }
}
