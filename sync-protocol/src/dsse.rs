//! DSSE v1 envelopes (secure-systems-lab/dsse): the signed container for records,
//! receipts, enrolment requests and catalogs.
//!
//! The signature covers `PAE(payloadType, payload)` =
//! `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, so the type (which names the
//! protocol version) is bound to the bytes. The payload bytes are produced once by the
//! signer; verifiers check the signature with `verify_strict` *before* parsing anything
//! inside the payload, and then parse exactly those bytes.
//!
//! Fieldkit narrows DSSE in two places, both stated in PROTOCOL.md: an envelope carries
//! exactly one signature, and base64 is the standard padded alphabet only.

use ed25519_dalek::{Signature as EdSignature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::{b64, ProtocolError};

/// The largest envelope (as JSON) any Fieldkit endpoint accepts.
pub const MAX_ENVELOPE_BYTES: usize = 2 * 1024 * 1024;

/// A DSSE envelope as it travels in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Media type naming what the payload is and its version.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// The payload bytes, standard padded base64.
    pub payload: String,
    /// Exactly one signature in Fieldkit.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One DSSE signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeSignature {
    /// Which key signed: a kit id for kit statements, a server key id for receipts.
    pub keyid: String,
    /// The 64-byte ed25519 signature, standard padded base64.
    pub sig: String,
}

/// An envelope whose signature has been checked; its payload bytes are now safe to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The envelope's `payloadType`.
    pub payload_type: String,
    /// The signer's key id, as claimed in the envelope and proven by the signature.
    pub keyid: String,
    /// The exact payload bytes that were signed.
    pub payload: Vec<u8>,
}

/// Pre-authentication encoding (DSSE v1).
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(body.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(body);
    out
}

/// Signs payload bytes into an envelope. The bytes are used as they are; callers
/// serialize once and keep what they signed.
pub fn sign(payload_type: &str, payload: &[u8], keyid: &str, key: &SigningKey) -> Envelope {
    let sig = key.sign(&pae(payload_type, payload));
    Envelope {
        payload_type: payload_type.to_owned(),
        payload: b64::encode(payload),
        signatures: vec![EnvelopeSignature {
            keyid: keyid.to_owned(),
            sig: b64::encode(sig.to_bytes()),
        }],
    }
}

impl Envelope {
    /// Parses an envelope from JSON, enforcing the size limit first.
    ///
    /// # Errors
    /// [`ProtocolError::TooLarge`] or [`ProtocolError::Malformed`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, ProtocolError> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(ProtocolError::TooLarge {
                what: "envelope",
                actual: bytes.len(),
                limit: MAX_ENVELOPE_BYTES,
            });
        }
        serde_json::from_slice(bytes)
            .map_err(|e| ProtocolError::malformed("envelope", e.to_string()))
    }

    /// Serializes the envelope as compact JSON.
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing plain strings and a Vec cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The key id of the single signature, before verification (a lookup hint only).
    ///
    /// # Errors
    /// [`ProtocolError::Malformed`] unless there is exactly one signature.
    pub fn claimed_keyid(&self) -> Result<&str, ProtocolError> {
        match self.signatures.as_slice() {
            [one] => Ok(&one.keyid),
            other => Err(ProtocolError::malformed(
                "signatures",
                format!("exactly one signature required, found {}", other.len()),
            )),
        }
    }

    /// Verifies the envelope against one key and one expected type, returning the
    /// payload bytes only if the signature holds.
    ///
    /// # Errors
    /// [`ProtocolError::WrongPayloadType`], [`ProtocolError::Malformed`] or
    /// [`ProtocolError::BadSignature`].
    pub fn verify(
        &self,
        expected_type: &'static str,
        key: &VerifyingKey,
    ) -> Result<Verified, ProtocolError> {
        if self.payload_type != expected_type {
            return Err(ProtocolError::WrongPayloadType {
                expected: expected_type,
                found: self.payload_type.clone(),
            });
        }
        let keyid = self.claimed_keyid()?;
        let sig_bytes: [u8; 64] = b64::decode_array("signatures[0].sig", &self.signatures[0].sig)?;
        let payload = b64::decode("payload", &self.payload)?;
        key.verify_strict(
            &pae(&self.payload_type, &payload),
            &EdSignature::from_bytes(&sig_bytes),
        )
        .map_err(|_| ProtocolError::BadSignature)?;
        Ok(Verified {
            payload_type: self.payload_type.clone(),
            keyid: keyid.to_owned(),
            payload,
        })
    }
}

impl Envelope {
    /// Verifies an envelope signed by one of several trusted keys (server keys a kit got
    /// at enrolment), choosing the key by the envelope's key id, which for these keys is
    /// [`crate::receipt::ed25519_key_id`].
    ///
    /// # Errors
    /// [`ProtocolError::WrongKeyId`] when no trusted key has the envelope's key id;
    /// otherwise as [`Envelope::verify`].
    pub fn verify_with_trusted(
        &self,
        expected_type: &'static str,
        trusted: &[VerifyingKey],
    ) -> Result<Verified, ProtocolError> {
        let keyid = self.claimed_keyid()?;
        let key = trusted
            .iter()
            .find(|k| crate::receipt::ed25519_key_id(k) == keyid)
            .ok_or_else(|| ProtocolError::WrongKeyId {
                expected: "a trusted server key".to_owned(),
                found: keyid.to_owned(),
            })?;
        self.verify(expected_type, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_specification_example() {
        // The worked example of the DSSE v1 protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn an_envelope_with_two_signatures_is_refused() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let mut env = sign("t", b"x", "k", &key);
        env.signatures.push(env.signatures[0].clone());
        assert!(matches!(
            env.verify("t", &key.verifying_key()),
            Err(ProtocolError::Malformed {
                field: "signatures",
                ..
            })
        ));
    }

    #[test]
    fn unknown_envelope_fields_are_refused() {
        let json = br#"{"payloadType":"t","payload":"","signatures":[],"extra":1}"#;
        assert!(Envelope::from_json(json).is_err());
    }
}
