//! Strict base64: the standard alphabet with padding (RFC 4648 §4), canonical only.
//!
//! DSSE lets readers accept either alphabet; Fieldkit accepts exactly one so that a
//! given byte string has exactly one encoding. Non-canonical trailing bits, missing
//! padding, the URL-safe alphabet and whitespace are all rejected.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::ProtocolError;

/// Encodes bytes as standard padded base64.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    STANDARD.encode(bytes)
}

/// Decodes standard padded base64, rejecting every non-canonical form.
///
/// # Errors
/// [`ProtocolError::Malformed`] naming `field` when the text is not canonical base64.
pub fn decode(field: &'static str, text: &str) -> Result<Vec<u8>, ProtocolError> {
    // The STANDARD engine already rejects non-zero trailing bits and missing padding.
    STANDARD
        .decode(text)
        .map_err(|e| ProtocolError::malformed(field, format!("not canonical base64: {e}")))
}

/// Decodes base64 into exactly `N` bytes.
///
/// # Errors
/// [`ProtocolError::Malformed`] when the text is not canonical base64 of `N` bytes.
pub fn decode_array<const N: usize>(
    field: &'static str,
    text: &str,
) -> Result<[u8; N], ProtocolError> {
    let bytes = decode(field, text)?;
    bytes.try_into().map_err(|b: Vec<u8>| {
        ProtocolError::malformed(field, format!("{} bytes where {N} are required", b.len()))
    })
}

/// Lower-case hex of a SHA-256 digest or key, and its strict inverse.
pub mod hex32 {
    use crate::ProtocolError;

    /// Parses exactly 64 lower-case hex digits.
    ///
    /// # Errors
    /// [`ProtocolError::Malformed`] otherwise.
    pub fn decode(field: &'static str, text: &str) -> Result<[u8; 32], ProtocolError> {
        if text.len() != 64 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(ProtocolError::malformed(
                field,
                "expected 64 lower-case hex digits",
            ));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out)
            .map_err(|e| ProtocolError::malformed(field, e.to_string()))?;
        Ok(out)
    }
}
