//! One-time enrolment codes: 12 characters of Crockford's base32 in three groups
//! (`7KQ2-M9XD-4HTB`, 60 random bits), short-lived and single use. Only a hash of the
//! normalized code is stored, so a database dump does not hand out enrolments.
//!
//! Normalization forgives what people mistype when reading a code aloud or off paper:
//! case, spaces and hyphens, and Crockford's look-alikes (`O`→`0`, `I`/`L`→`1`).

use rand_core::{OsRng, RngCore as _};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A fresh random code.
pub fn generate() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; 8]);
    OsRng.fill_bytes(bytes.as_mut());
    let mut bits = u64::from_be_bytes(*bytes);
    let mut out = Zeroizing::new(String::with_capacity(14));
    for i in 0..12 {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[(bits & 31) as usize]));
        bits >>= 5;
    }
    out
}

/// The stored form: SHA-256 of a domain label and the normalized code.
pub fn hash(code: &str) -> [u8; 32] {
    let normalized: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    let mut hasher = Sha256::new();
    hasher.update(b"fieldkit-backend/v1 enrolment-code:");
    hasher.update(normalized.as_bytes());
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_three_groups_and_survive_sloppy_typing() {
        let code = generate();
        assert_eq!(code.len(), 14);
        assert_eq!(code.matches('-').count(), 2);
        assert_ne!(*code, *generate());
        assert_eq!(hash("7KQ2-M9XD-4HTB"), hash("7kq2 m9xd 4htb"));
        assert_eq!(hash("1O00-0000-0000"), hash("L000-0000-0000"));
        assert_ne!(hash("7KQ2-M9XD-4HTB"), hash("7KQ2-M9XD-4HTC"));
    }
}
