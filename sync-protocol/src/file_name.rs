//! An attachment's file name as the clerk chose it, made safe to travel inside the seal
//! and to be shown and offered as a download name by the back office (PROTOCOL.md §5.3).
//!
//! A file name is the citizen's data ("Reisepass Kowalski.pdf"), so it travels only
//! sealed. It is also attacker-controlled input for whoever shows it: a path
//! ("../../etc/passwd"), a control character, a bidirectional override that makes
//! "rechnung\u{202E}fdp.exe" look like "rechnungexe.pdf", a Windows device name, or a
//! name of thousands of characters. [`sanitize`] turns any input into a name without
//! these, or into nothing; kit and backend both apply it (the backend again on what it
//! opens, trusting no kit), and a sanitized name is its own sanitization.

use unicode_general_category::{get_general_category, GeneralCategory};
use unicode_normalization::UnicodeNormalization as _;

/// The most characters a file name keeps (its extension included).
pub const MAX_FILE_NAME_CHARS: usize = 120;

/// The longest extension kept whole when a long name is shortened.
const MAX_EXTENSION_CHARS: usize = 10;

/// Characters Windows, macOS or a shell would read as something else than a name.
const RESERVED: &[char] = &['<', '>', ':', '"', '/', '\\', '|', '?', '*'];

/// Names Windows reserves for devices, with any extension ("con.pdf" too).
const DEVICE_NAMES: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// Whether `c` is invisible or changes how its neighbours show: controls, format
/// characters (bidirectional overrides and isolates, zero-width joiners), separators
/// other than the plain space, private-use and unassigned code points.
fn is_hidden(c: char) -> bool {
    use GeneralCategory as G;
    matches!(
        get_general_category(c),
        G::Control
            | G::Format
            | G::LineSeparator
            | G::ParagraphSeparator
            | G::PrivateUse
            | G::Surrogate
            | G::Unassigned
    ) || (c.is_whitespace() && c != ' ')
}

/// The safe form of `raw`: its last path component, NFC, without hidden characters,
/// reserved characters replaced by `_`, runs of spaces collapsed, no leading or trailing
/// dots and spaces, a Windows device name prefixed with `_`, at most
/// [`MAX_FILE_NAME_CHARS`] characters (a long name loses characters before its
/// extension). `None` when nothing is left.
pub fn sanitize(raw: &str) -> Option<String> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut name = String::with_capacity(last.len());
    for c in last.nfc() {
        if is_hidden(c) {
            continue;
        }
        let c = if RESERVED.contains(&c) { '_' } else { c };
        if c == ' ' && (name.is_empty() || name.ends_with(' ')) {
            continue;
        }
        name.push(c);
    }
    let mut name = name.trim_matches(['.', ' ']).to_owned();
    if name.is_empty() {
        return None;
    }
    let stem = name.split('.').next().unwrap_or_default();
    if DEVICE_NAMES.iter().any(|d| d.eq_ignore_ascii_case(stem)) {
        name.insert(0, '_');
    }
    Some(shorten(&name))
}

/// `name` cut to [`MAX_FILE_NAME_CHARS`], keeping a short extension whole.
fn shorten(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= MAX_FILE_NAME_CHARS {
        return name.to_owned();
    }
    let extension: Vec<char> = match name.rfind('.') {
        Some(dot) if name[dot..].chars().count() <= MAX_EXTENSION_CHARS + 1 => {
            name[dot..].chars().collect()
        }
        _ => Vec::new(),
    };
    let keep = MAX_FILE_NAME_CHARS - extension.len();
    let stem: String = chars[..keep].iter().collect();
    // The cut may leave a trailing space or dot, or split a base letter from its
    // combining mark; NFC again keeps the form stable.
    let stem = stem.trim_end_matches(['.', ' ']);
    let shortened: String = stem.chars().chain(extension).collect();
    shortened.nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_pass_unchanged_and_in_nfc() {
        assert_eq!(
            sanitize("Wohnungsgeberbestätigung.pdf").as_deref(),
            Some("Wohnungsgeberbestätigung.pdf")
        );
        // "a" + combining diaeresis becomes "ä".
        assert_eq!(
            sanitize("Ma\u{308}rz.pdf").as_deref(),
            Some("M\u{e4}rz.pdf")
        );
        assert_eq!(
            sanitize("Paszport Łukasz Żółć.jpg").as_deref(),
            Some("Paszport Łukasz Żółć.jpg")
        );
    }

    #[test]
    fn paths_controls_overrides_and_reserved_characters_are_removed() {
        assert_eq!(sanitize("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(
            sanitize("C:\\Users\\Clara\\Scan 1.pdf").as_deref(),
            Some("Scan 1.pdf")
        );
        assert_eq!(
            sanitize("rechnung\u{202E}fdp.exe").as_deref(),
            Some("rechnungfdp.exe"),
            "a right-to-left override cannot disguise the extension"
        );
        assert_eq!(
            sanitize("a\u{0}b\u{7}c\n\td\u{200B}e.pdf").as_deref(),
            Some("abcde.pdf")
        );
        assert_eq!(
            sanitize("what?*<is>|this\".pdf").as_deref(),
            Some("what___is__this_.pdf")
        );
        assert_eq!(
            sanitize("  ..  hidden  name .. ").as_deref(),
            Some("hidden name")
        );
        assert_eq!(
            sanitize("\u{E000}x.pdf").as_deref(),
            Some("x.pdf"),
            "private use"
        );
    }

    #[test]
    fn device_names_are_defused_and_nothing_left_is_none() {
        assert_eq!(sanitize("con.pdf").as_deref(), Some("_con.pdf"));
        assert_eq!(sanitize("LPT1").as_deref(), Some("_LPT1"));
        assert_eq!(sanitize("console.pdf").as_deref(), Some("console.pdf"));
        for nothing in ["", "   ", "...", "/", "dir/", "\u{202E}\u{200B}", "\u{0}"] {
            assert_eq!(sanitize(nothing), None, "{nothing:?}");
        }
    }

    #[test]
    fn long_names_keep_their_extension_and_the_limit() {
        let long = format!("{}.pdf", "Ä".repeat(500));
        let short = sanitize(&long).expect("a name");
        assert_eq!(short.chars().count(), MAX_FILE_NAME_CHARS);
        assert!(short.ends_with(".pdf"));
        let no_extension = "x".repeat(300);
        assert_eq!(
            sanitize(&no_extension).map(|s| s.chars().count()),
            Some(MAX_FILE_NAME_CHARS)
        );
        let long_extension = format!("name.{}", "e".repeat(200));
        assert_eq!(
            sanitize(&long_extension).map(|s| s.chars().count()),
            Some(MAX_FILE_NAME_CHARS)
        );
    }

    #[test]
    fn a_sanitized_name_is_its_own_sanitization() {
        for raw in [
            "Wohnungsgeberbestätigung.pdf",
            "../x/ con.pdf",
            "a\u{202E}b",
            &format!("{} .pdf", "é".repeat(300)),
            "x.....",
            "e\u{301}\u{301}.png",
        ] {
            let once = sanitize(raw).expect("a name");
            assert_eq!(sanitize(&once).as_deref(), Some(once.as_str()), "{raw:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_input_gives_a_short_visible_stable_name_or_none(raw in "\\PC{0,300}|[\\x00-\\x7f]{0,50}") {
            if let Some(name) = sanitize(&raw) {
                proptest::prop_assert!(name.chars().count() <= MAX_FILE_NAME_CHARS);
                proptest::prop_assert!(!name.chars().any(|c| is_hidden(c) || RESERVED.contains(&c)));
                proptest::prop_assert!(!name.starts_with(['.', ' ']) && !name.ends_with(['.', ' ']));
                proptest::prop_assert_eq!(sanitize(&name), Some(name.clone()));
            }
        }
    }
}
