//! Short human codes: the case number a clerk reads out and the verification code
//! printed on the citizen's receipt, both derived, never stored as secrets.

use sync_protocol::ids::{KitId, Sha256Hash};

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Crockford base32 (no I, L, O, U: nothing to confuse when read aloud or typed).
pub fn crockford(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(CROCKFORD[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(CROCKFORD[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The case number: the kit's short code and the record's seq, e.g. `K7F3Q-000042`.
/// Unique per kit and stable; the short code is the first 25 bits of the kit id.
pub fn case_number(kit: &KitId, seq: u64) -> String {
    let short = &crockford(&kit.as_uuid().as_bytes()[..4])[..5];
    format!("{short}-{seq:06}")
}

/// The verification code for the citizen's receipt: the first 40 bits of the record
/// hash in Crockford base32, as `ABCD-EFGH`. Anyone holding the record can recompute
/// it; it lets the back office confirm that a receipt belongs to a record.
pub fn verification_code(record_hash: &Sha256Hash) -> String {
    let c = crockford(&record_hash.0[..5]);
    format!("{}-{}", &c[..4], &c[4..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crockford_matches_known_values() {
        assert_eq!(crockford(&[0]), "00");
        assert_eq!(crockford(&[0xff; 5]), "ZZZZZZZZ");
        assert_eq!(crockford(b"f"), "CR");
    }

    #[test]
    fn codes_have_their_documented_shape() {
        let kit: KitId = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".parse().expect("id");
        let n = case_number(&kit, 42);
        assert_eq!(n.len(), 12);
        assert!(n.ends_with("-000042"));
        let v = verification_code(&Sha256Hash::of(b"record"));
        assert_eq!(v.len(), 9);
        assert_eq!(&v[4..5], "-");
    }
}
