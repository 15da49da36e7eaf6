//! DIN 91379 (successor of DIN SPEC 91379 / String.Latin+ 1.2): the characters and
//! defined character sequences German administration must accept in names, and nothing
//! else.
//!
//! The table is data, `catalog/din91379/din91379.json`, generated from the published
//! list (see `catalog/din91379/README.md`) and read by this module and by the UI
//! (`ui/src/forms/formats.ts`); `catalog/din91379/vectors.json` pins both sides to the
//! same answers. A value is valid for a data type when it is in Unicode normalization
//! form C and, read from the left taking the longest match, consists only of the
//! characters and sequences of that data type's groups, without a space at either end
//! or two spaces in a row. Everything else — other scripts, emoji, control characters,
//! unassigned code points, combining marks outside a defined sequence — is refused
//! with the first offending character and its position.

use std::collections::HashSet;
use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::Value;
use unicode_general_category::{get_general_category, GeneralCategory};
use unicode_normalization::UnicodeNormalization;

use crate::model::Localized;

/// The generated table; the path is relative to this file.
const TABLE_JSON: &str = include_str!("../din91379/din91379.json");

/// The DIN 91379 data types this crate validates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    /// Names of natural persons: Latin letters and sequences, non-letters N1.
    A,
    /// Other names — streets, places, legal persons: type A plus non-letters N2
    /// (digits, common punctuation).
    B,
    /// All normative characters: type B plus N3 and N4 (tab, line breaks, no-break space).
    C,
}

impl DataType {
    /// The data type by its letter in the standard ("A", "B", "C").
    #[must_use]
    pub fn from_letter(letter: &str) -> Option<Self> {
        match letter {
            "A" => Some(Self::A),
            "B" => Some(Self::B),
            "C" => Some(Self::C),
            _ => None,
        }
    }

    fn letter(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::B => "B",
            Self::C => "C",
        }
    }
}

/// Why a value is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// The character is not part of the data type (nor starts a defined sequence there).
    Character,
    /// A space at the start or end, or a second space in a row.
    Space,
    /// The value is not in Unicode normalization form C; the position is where it first
    /// differs from its NFC form.
    NotNfc,
}

/// The first problem of a value: what, which character, where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// What is wrong.
    pub kind: RefusalKind,
    /// The offending character.
    pub ch: char,
    /// Its 1-based position, counted in Unicode scalar values of the NFC form.
    pub position: usize,
}

impl Refusal {
    /// The character as a clerk can read it: itself when it is a visible letter, digit,
    /// punctuation or symbol, else `U+XXXX` (control and format characters, combining
    /// marks, spaces, unassigned and private-use code points).
    #[must_use]
    pub fn shown(&self) -> String {
        if is_visible(self.ch) {
            self.ch.to_string()
        } else {
            format!("U+{:04X}", u32::from(self.ch))
        }
    }

    /// A sentence in German and English that names the character and its position, e.g.
    /// „Zeichen „王“ an Stelle 1 ist in Namen nicht zulässig (DIN 91379)“.
    #[must_use]
    pub fn message(&self) -> Localized {
        let pos = self.position;
        let (de, en) = match self.kind {
            RefusalKind::Character => {
                let (q_de, q_en) = if is_visible(self.ch) {
                    (format!("„{}“", self.ch), format!("'{}'", self.ch))
                } else {
                    (self.shown(), self.shown())
                };
                (
                    format!("Zeichen {q_de} an Stelle {pos} ist in Namen nicht zulässig (DIN 91379)"),
                    format!("character {q_en} at position {pos} is not allowed in names (DIN 91379)"),
                )
            }
            RefusalKind::Space => (
                format!("Leerzeichen an Stelle {pos}: Namen beginnen und enden nicht mit einem Leerzeichen und haben keine zwei Leerzeichen hintereinander"),
                format!("space at position {pos}: names neither begin nor end with a space nor have two spaces in a row"),
            ),
            RefusalKind::NotNfc => (
                format!("Text ab Stelle {pos} ist nicht in Unicode-Normalform C (NFC), die DIN 91379 verlangt"),
                format!("text from position {pos} on is not in Unicode normalization form C (NFC), which DIN 91379 requires"),
            ),
        };
        Localized { de, en }
    }
}

fn is_visible(c: char) -> bool {
    use GeneralCategory as G;
    matches!(
        get_general_category(c),
        G::UppercaseLetter
            | G::LowercaseLetter
            | G::TitlecaseLetter
            | G::ModifierLetter
            | G::OtherLetter
            | G::DecimalNumber
            | G::LetterNumber
            | G::OtherNumber
            | G::ConnectorPunctuation
            | G::DashPunctuation
            | G::OpenPunctuation
            | G::ClosePunctuation
            | G::InitialPunctuation
            | G::FinalPunctuation
            | G::OtherPunctuation
            | G::MathSymbol
            | G::CurrencySymbol
            | G::ModifierSymbol
            | G::OtherSymbol
    )
}

/// The file's shape (only what the checker needs).
#[derive(Deserialize)]
struct TableFile {
    data_types: std::collections::BTreeMap<String, DataTypeEntry>,
    groups: std::collections::BTreeMap<String, Group>,
}

#[derive(Deserialize)]
struct DataTypeEntry {
    groups: Vec<String>,
}

#[derive(Deserialize)]
struct Group {
    /// Code points in hex, space-separated for a sequence: "0041", "004B 035F 0048".
    entries: Vec<String>,
}

/// Characters and sequences per data type, each as its scalar values.
struct Table {
    units: [HashSet<Vec<char>>; 3],
    longest: usize,
}

fn index(ty: DataType) -> usize {
    match ty {
        DataType::A => 0,
        DataType::B => 1,
        DataType::C => 2,
    }
}

fn parse_entry(cps: &str) -> Vec<char> {
    cps.split(' ')
        .map(|h| {
            u32::from_str_radix(h, 16)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or_else(|| panic!("din91379.json: bad code point {h:?}"))
        })
        .collect()
}

/// Panics only if the file compiled into the crate is broken, which the crate's tests
/// rule out.
static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let file: TableFile = serde_json::from_str(TABLE_JSON).expect("din91379.json is valid");
    let mut units: [HashSet<Vec<char>>; 3] = Default::default();
    let mut longest = 1;
    for ty in [DataType::A, DataType::B, DataType::C] {
        let groups = &file.data_types[ty.letter()].groups;
        for g in groups {
            for e in &file.groups[g].entries {
                let unit = parse_entry(e);
                longest = longest.max(unit.len());
                units[index(ty)].insert(unit);
            }
        }
    }
    Table { units, longest }
});

/// `s` in Unicode normalization form C. Apply it to every value a person typed or pasted
/// before storing or validating it: keyboards, scanners and PDFs often produce
/// decomposed text (`e` + U+0302 + U+0303 for `ễ`).
#[must_use]
pub fn normalize_nfc(s: &str) -> String {
    s.nfc().collect()
}

/// Replaces every string inside `value` (object keys excepted) by its NFC form, e.g.
/// form data before validation and storage.
pub fn normalize_nfc_json(value: &mut Value) {
    match value {
        Value::String(s) => {
            if !unicode_normalization::is_nfc(s) {
                *s = normalize_nfc(s);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize_nfc_json),
        Value::Object(map) => map.values_mut().for_each(normalize_nfc_json),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Checks `s` against data type `ty`.
///
/// The characters are checked in the NFC form of `s`, so the position is the one a
/// person sees after normalization; a value with no other problem that is not itself in
/// NFC is refused as [`RefusalKind::NotNfc`]. Normalize first with [`normalize_nfc`] to
/// accept decomposed input. The empty string passes (required fields say so with
/// `minLength`).
///
/// # Errors
/// The first [`Refusal`], reading from the left.
pub fn check(s: &str, ty: DataType) -> Result<(), Refusal> {
    let nfc = normalize_nfc(s);
    let chars: Vec<char> = nfc.chars().collect();
    let table = &*TABLE;
    let units = &table.units[index(ty)];
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == ' ' && (i == 0 || i + 1 == chars.len() || chars[i - 1] == ' ') {
            return Err(Refusal {
                kind: RefusalKind::Space,
                ch: c,
                position: i + 1,
            });
        }
        let max = table.longest.min(chars.len() - i);
        match (1..=max)
            .rev()
            .find(|&len| units.contains(&chars[i..i + len]))
        {
            Some(len) => i += len,
            None => {
                return Err(Refusal {
                    kind: RefusalKind::Character,
                    ch: c,
                    position: i + 1,
                })
            }
        }
    }
    if nfc != s {
        // The first scalar value where `s` and its NFC form part (normalization never
        // just drops or appends a tail, so the fallback is for completeness).
        let k = s
            .chars()
            .zip(nfc.chars())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| chars.len().min(s.chars().count()));
        let ch = s.chars().nth(k).unwrap_or(' ');
        return Err(Refusal {
            kind: RefusalKind::NotNfc,
            ch,
            position: k + 1,
        });
    }
    Ok(())
}

/// Whether `s` passes [`check`].
#[must_use]
pub fn is_valid(s: &str, ty: DataType) -> bool {
    check(s, ty).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_the_published_counts() {
        // latin_list_1.3.txt: 500 letters + 149 sequences, N1 18, N2 60, N3 6, N4 4.
        let t = &*TABLE;
        assert_eq!(t.units[index(DataType::A)].len(), 649 + 18);
        assert_eq!(t.units[index(DataType::B)].len(), 649 + 18 + 60);
        assert_eq!(t.units[index(DataType::C)].len(), 649 + 18 + 60 + 6 + 4);
        assert_eq!(t.longest, 3);
    }

    #[test]
    fn every_entry_is_already_nfc() {
        for units in &TABLE.units {
            for u in units {
                let s: String = u.iter().collect();
                assert_eq!(normalize_nfc(&s), s, "{u:?}");
            }
        }
    }

    #[test]
    fn a_combining_mark_outside_a_sequence_is_named_by_code_point() {
        let r = check("Aq\u{303}", DataType::A).expect_err("q̃ is no DIN sequence");
        assert_eq!(
            (r.kind, r.position, r.shown()),
            (RefusalKind::Character, 3, "U+0303".to_owned())
        );
    }

    #[test]
    fn json_strings_are_normalized_in_place() {
        let mut v = serde_json::json!({"a": ["Nguye\u{302}\u{303}n", 1], "b": {"c": "Zoe\u{308}"}});
        normalize_nfc_json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"a": ["Nguyễn", 1], "b": {"c": "Zoë"}})
        );
    }
}
