//! Short human codes: the case number (Vorgangsnummer) a clerk reads out and the
//! verification code (Prüfcode) printed on the citizen's receipt, both derived from the
//! record, never secrets — written once here for the kit that prints them and the back
//! office that finds a case by them ([`CaseCode::parse`]).

use crate::ids::{KitId, Sha256Hash};

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
    format!("{}-{seq:06}", kit_short_code(kit))
}

/// The verification code for the citizen's receipt: the first 40 bits of the record
/// hash in Crockford base32, as `ABCD-EFGH`. Anyone holding the record can recompute
/// it; it lets the back office confirm that a receipt belongs to a record.
pub fn verification_code(record_hash: &Sha256Hash) -> String {
    let c = crockford(&record_hash.0[..5]);
    format!("{}-{}", &c[..4], &c[4..8])
}

/// A code a person typed to find a case: forgiving of case, spaces, hyphens and
/// Crockford's look-alikes (`O`→`0`, `I`/`L`→`1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseCode {
    /// A case number: the kit's short code (5 characters) and the record's seq.
    CaseNumber {
        /// [`kit_short_code`] of the capturing kit.
        kit: String,
        /// The record's position in that kit's chain.
        seq: u64,
    },
    /// A verification code: the first 40 bits of the record hash.
    Verification([u8; 5]),
}

/// The kit part of a case number: the first 25 bits of the kit id.
pub fn kit_short_code(kit: &KitId) -> String {
    crockford(&kit.as_uuid().as_bytes()[..4])[..5].to_owned()
}

fn normalize(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

fn crockford_value(c: char) -> Option<u64> {
    CROCKFORD
        .iter()
        .position(|&a| char::from(a) == c)
        .map(|v| v as u64)
}

impl CaseCode {
    /// Reads a typed case number (`K7F3Q-000042`) or verification code (`ABCD-EFGH`);
    /// `None` for anything else.
    pub fn parse(typed: &str) -> Option<Self> {
        let text = normalize(typed);
        if let Some((kit, seq)) = text
            .split_once('-')
            .filter(|(k, s)| k.len() == 5 && s.len() >= 6)
        {
            if kit.chars().all(|c| crockford_value(c).is_some())
                && seq.bytes().all(|b| b.is_ascii_digit())
                && seq.len() <= 15
            {
                let seq: u64 = seq.parse().ok()?;
                return (seq > 0).then(|| Self::CaseNumber {
                    kit: kit.to_owned(),
                    seq,
                });
            }
        }
        let code: String = text.chars().filter(|&c| c != '-').collect();
        if code.len() != 8 {
            return None;
        }
        let mut bits: u64 = 0;
        for c in code.chars() {
            bits = (bits << 5) | crockford_value(c)?;
        }
        let bytes = bits.to_be_bytes();
        let mut prefix = [0u8; 5];
        prefix.copy_from_slice(&bytes[3..]);
        Some(Self::Verification(prefix))
    }
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

    #[test]
    fn typed_codes_are_read_back_forgivingly_and_junk_is_refused() {
        let kit: KitId = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".parse().expect("id");
        let number = case_number(&kit, 42);
        let want = CaseCode::CaseNumber {
            kit: kit_short_code(&kit),
            seq: 42,
        };
        assert_eq!(CaseCode::parse(&number), Some(want.clone()));
        let sloppy = format!(" {} ", number.to_lowercase().replace('0', "o"));
        assert_eq!(CaseCode::parse(&sloppy), Some(want));
        let hash = Sha256Hash::of(b"record");
        let code = verification_code(&hash);
        let mut prefix = [0u8; 5];
        prefix.copy_from_slice(&hash.0[..5]);
        assert_eq!(CaseCode::parse(&code), Some(CaseCode::Verification(prefix)));
        assert_eq!(
            CaseCode::parse(&code.replace('-', "").to_lowercase()),
            Some(CaseCode::Verification(prefix))
        );
        for junk in [
            "",
            "-",
            "ABCD-EFG",
            "ABCD-EFGHJ",
            "ABCU-EFGH",
            "K7F3Q-00004",
            "K7F3Q-000000",
            "K7F3Q-12345678901234567",
            "<script>",
        ] {
            assert_eq!(CaseCode::parse(junk), None, "{junk}");
        }
    }
}
