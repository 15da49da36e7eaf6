//! The signed printout (issue 18), read back with real tools — poppler's `pdftotext`,
//! `pdffonts`, `pdfinfo` and `pdfdetach`, installed by `scripts/test.sh`: golden DIN 91379
//! names print exactly, every font is embedded as a subset, the writer's PDF/A-3a and
//! PDF/UA-1 validation passes and refuses a non-conforming document, long values wrap
//! instead of being clipped, and the `fieldkit record printout` command writes files
//! safely and fails clearly.

use std::path::Path;
use std::process::Command;

use chrono::NaiveDate;
use fieldkit_catalog::din91379::{is_valid, normalize_nfc, DataType};
use kit_core::printout::{self, Printout, PrintoutError, Section, Signature, Table};
use kit_core::{KitError, PrintoutOptions};

use crate::cli::{fieldkit, json, run};
use crate::support::{anmeldung, enrolled_kit, finalize_anmeldung};

/// Ten golden names, (first names, family name), from different DIN 91379 groups.
const GOLDEN: [(&str, &str); 10] = [
    ("Łukasz", "Żółć-Dąbrowski"),                            // Polish
    ("Ľubomír", "Dvořák"),                                   // Slovak, Czech
    ("Jānis", "Bērziņš"),                                    // Latvian
    ("Þórður Ægir", "Ðorðević-Sørensen"),                    // Nordic Þ Æ Ð Ø
    ("Şükrü", "Öztürk"),                                     // Turkish
    ("İlkay", "Gündoğan"),                                   // Turkish dotted capital I
    ("Ștefan", "Țăranu"),                                    // Romanian, comma below
    ("Thị Ngọc", "Nguyễn"),                                  // Vietnamese transliteration
    ("L\u{325}uka", "M\u{300}arković"),                      // base + combining sequences
    ("K\u{35f}hanh", "C\u{328}\u{306}elik-L\u{325}\u{304}"), // three-code-point sequences
];

const DAY: Option<NaiveDate> = NaiveDate::from_ymd_opt(2026, 12, 6);

/// Runs a poppler tool; fails the test, with what to do, if it is not installed.
fn poppler(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("{tool} is missing ({e}): run scripts/test.sh once (it installs poppler-utils)")
    });
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("poppler prints UTF-8")
}

fn save(dir: &Path, name: &str, pdf: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, pdf).expect("write pdf");
    path.to_str().expect("utf8").to_owned()
}

fn text_of(path: &str) -> String {
    poppler("pdftotext", &["-enc", "UTF-8", path, "-"])
}

/// The text in content order, without pdftotext's joining of lines that end in a hyphen
/// (it takes a name's own hyphen at a line end for hyphenation and drops it).
fn raw_text_of(path: &str) -> String {
    poppler("pdftotext", &["-raw", "-enc", "UTF-8", path, "-"])
}

/// pdftotext guesses word breaks from glyph positions. A combining mark placed back
/// over its base letter (L̥: the ring is drawn under the L, then the pen returns) ends its
/// cluster short of where the next letter starts, and pdftotext puts a space there
/// ("L̥ uka"); the PDF itself has no space (krilla gives the cluster its exact text as
/// ActualText). Such a guessed break — whitespace right after a combining mark — is taken
/// out; every other character must be exactly as typed.
fn without_break_after_marks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut after_mark = false;
    for c in text.chars() {
        if after_mark && c == ' ' {
            continue;
        }
        after_mark = ('\u{300}'..='\u{36f}').contains(&c);
        out.push(c);
    }
    out
}

fn pages_of(path: &str) -> usize {
    poppler("pdfinfo", &[path])
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("pdfinfo names the page count")
}

/// Every font of the PDF: (name, embedded, subset), from `pdffonts`.
fn fonts_of(path: &str) -> Vec<(String, bool, bool)> {
    let listing = poppler("pdffonts", &[path]);
    let mut lines = listing.lines();
    let header = lines.next().expect("header");
    let emb = header.find(" emb ").expect("emb column") + 1;
    let sub = header.find(" sub ").expect("sub column") + 1;
    lines
        .skip(1)
        .map(|l| {
            (
                l.split_whitespace().next().unwrap_or_default().to_owned(),
                l.get(emb..emb + 3) == Some("yes"),
                l.get(sub..sub + 3) == Some("yes"),
            )
        })
        .collect()
}

/// A small signature PNG: a dark stroke on white, as the app's signature pad makes one.
pub(crate) fn signature_png() -> Vec<u8> {
    let (w, h) = (300u32, 100u32);
    let mut pixels = vec![255u8; (w * h) as usize];
    for x in 20..280 {
        let y = 50 + ((x as f32 / 20.0).sin() * 25.0) as i32;
        for dy in -2..=2 {
            pixels[((y + dy) as u32 * w + x) as usize] = 20;
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("png header");
    writer.write_image_data(&pixels).expect("png data");
    writer.finish().expect("png end");
    out
}

fn options() -> PrintoutOptions {
    PrintoutOptions {
        place: Some("Musterstadt".into()),
        signature_png: Some(signature_png()),
        date: DAY,
    }
}

#[test]
fn golden_din_91379_names_print_exactly_with_every_font_embedded_as_a_subset() {
    let f = enrolled_kit();
    let mut s = f.unlock();
    for (first, family) in GOLDEN {
        for name in [first, family] {
            assert_eq!(normalize_nfc(name), name, "the test's name is NFC");
            assert!(is_valid(name, DataType::A), "{name} is a DIN 91379 name");
        }
        let mut data = anmeldung();
        data["persons"][0]["first_names"] = first.into();
        data["persons"][0]["family_name"] = family.into();
        let draft = s.create_draft("anmeldung", &data).expect("draft");
        let pdf = s.printout(&draft, &options()).expect("printout");
        let path = save(f.dir.path(), "golden.pdf", &pdf);
        let text = without_break_after_marks(&text_of(&path));
        assert!(text.contains(first), "{first:?} not in:\n{text}");
        assert!(text.contains(family), "{family:?} not in:\n{text}");
        let fonts = fonts_of(&path);
        assert!(!fonts.is_empty(), "no fonts listed");
        for (font, embedded, subset) in fonts {
            assert!(embedded, "{font} is not embedded");
            assert!(subset, "{font} is not a subset");
        }
    }
}

/// A printout with a heading, a table and a signature, made by hand.
fn small_printout(alt_text: &str) -> Printout {
    Printout {
        title: "Antrag: Prüfung".into(),
        subtitle: "Ausdruck zur Unterschrift".into(),
        facts_heading: "Vorgang".into(),
        facts: Table {
            header: None,
            rows: vec![vec!["Vorgangsnummer".into(), "K7F3Q-000042".into()]],
        },
        sections: vec![Section {
            heading: "Personen".into(),
            tables: vec![Table {
                header: Some(vec!["Angabe".into(), "Person 1".into()]),
                rows: vec![vec!["Familienname".into(), "Nguyễn".into()]],
            }],
        }],
        notice_heading: "Hinweise".into(),
        notice: vec!["Mit meiner Unterschrift bestätige ich die Angaben.".into()],
        place_date: "Ort, Datum: Musterstadt, 06.12.2026".into(),
        signature: Some(Signature {
            png: signature_png(),
            alt_text: alt_text.into(),
        }),
        signature_line: "Unterschrift".into(),
        attached_data: Some(r#"{"family_name":"Nguyễn"}"#.as_bytes().to_vec()),
        created: NaiveDate::from_ymd_opt(2026, 12, 6)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .expect("date"),
    }
}

#[test]
fn the_writers_pdf_a_and_pdf_ua_validation_passes_and_refuses_a_signature_without_alt_text() {
    let dir = tempfile::tempdir().expect("temp");
    let pdf = printout::render(&small_printout("Unterschrift der antragstellenden Person"))
        .expect("a conforming printout is written");
    let path = save(dir.path(), "ok.pdf", &pdf);
    // What the validation promised is what the file declares.
    let info = poppler("pdfinfo", &["-meta", &path]);
    assert!(
        info.contains("pdfaid:part>3<") || info.contains("pdfaid:part=\"3\""),
        "{info}"
    );
    assert!(
        info.contains("pdfaid:conformance>A<") || info.contains("pdfaid:conformance=\"A\""),
        "{info}"
    );
    assert!(
        info.contains("pdfuaid:part>1<") || info.contains("pdfuaid:part=\"1\""),
        "{info}"
    );
    let tagged = poppler("pdfinfo", &[&path])
        .lines()
        .find_map(|l| l.strip_prefix("Tagged:").map(|v| v.trim() == "yes"));
    assert_eq!(tagged, Some(true), "the PDF is tagged");
    assert!(poppler("pdfdetach", &["-list", &path]).contains(printout::DATA_FILE_NAME));

    // The same document with an image a screen reader cannot describe violates PDF/UA:
    // the writer refuses it, so the check above can fail.
    match printout::render(&small_printout("  ")) {
        Err(PrintoutError::NotConforming(violations)) => {
            assert!(
                violations.iter().any(|v| v.contains("alternative text")),
                "{violations:?}"
            );
        }
        other => panic!("a signature without alt text was not refused: {other:?}"),
    }
}

#[test]
fn a_character_outside_din_91379_is_refused_with_its_code_point_and_no_file_is_written() {
    let f = enrolled_kit();
    let mut s = f.unlock();
    let mut data = anmeldung();
    data["persons"][0]["first_names"] = "王小明".into();
    let draft = s
        .create_draft("anmeldung", &data)
        .expect("drafts are not validated");
    match s.printout(&draft, &options()) {
        Err(KitError::Printout(PrintoutError::NotConforming(v))) => {
            assert!(v.iter().any(|v| v.contains("U+738B")), "{v:?}");
            assert!(
                !v.iter().any(|v| v.contains('王')),
                "no form text in errors"
            );
        }
        other => panic!(
            "printed a name the font cannot show: {:?}",
            other.map(|b| b.len())
        ),
    }
    drop(s);
    let out_file = f.dir.path().join("cjk.pdf");
    let out = run(&mut fieldkit(
        f.kit.home().root(),
        &[
            "record",
            "printout",
            &draft,
            "--out",
            out_file.to_str().expect("utf8"),
        ],
    ));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("U+738B"));
    assert!(!out_file.exists(), "nothing is written");
}

/// The longest names the form accepts (120 characters), a long street, two persons:
/// every word is on the paper, wrapped, and the pages are what they should be.
#[test]
fn a_two_person_anmeldung_with_a_long_name_and_street_wraps_without_clipping() {
    let f = enrolled_kit();
    let mut s = f.unlock();
    let long_family = "Żółć-Dąbrowska-Þórðardóttir-Nguyễn-Wolfeschlegelsteinhausenbergerdorff-Ştefănescu-Gündoğan-Bērziņa-Sørensen-Ľubová";
    let long_first = "Maria Magdalena Josefine Theresia Ægidia Łucja Ingibjörg Thị Ngọc Ánh Zoë Şükriye İlkay Jūratė Cătălina Dóra";
    let long_street = "Straße des Siebzehnten Juni zwischen dem Großen Stern und der Charlottenburger Brücke, Hinterhaus, Aufgang C";
    for v in [long_family, long_first, long_street] {
        assert!(v.chars().count() <= 120 && is_valid(v, DataType::B), "{v}");
    }
    let mut data = anmeldung();
    data["persons"][1]["family_name"] = long_family.into();
    data["persons"][1]["first_names"] = long_first.into();
    data["new_address"]["street"] = long_street.into();
    let draft = s.create_draft("anmeldung", &data).expect("draft");
    let pdf = s.printout(&draft, &options()).expect("printout");
    let path = save(f.dir.path(), "long.pdf", &pdf);
    let squeezed = |t: &str| t.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let text = squeezed(&raw_text_of(&path));
    for v in [long_family, long_first, long_street, "Özdemir", "Ayşe"] {
        assert!(
            text.contains(&squeezed(v)),
            "{v:?} clipped or out of order in:\n{text}"
        );
    }
    // The same Anmeldung with ordinary values takes two pages (persons table on the
    // first, the addresses, the declaration and the signature on the second); the long
    // values add lines, which push the declaration and the signature — kept together —
    // onto a third page.
    let ordinary = s.create_draft("anmeldung", &anmeldung()).expect("draft");
    let ordinary = save(
        f.dir.path(),
        "ordinary.pdf",
        &s.printout(&ordinary, &options()).expect("printout"),
    );
    assert_eq!(pages_of(&ordinary), 2);
    let pages = pages_of(&path);
    assert_eq!(pages, 3, "{text}");
    for n in 1..=pages {
        assert!(text.contains(&squeezed(&format!("Seite {n} von {pages}"))));
    }
}

#[test]
fn fieldkit_record_printout_writes_once_refuses_to_overwrite_and_fails_clearly() {
    let f = enrolled_kit();
    let home = f.kit.home().root();
    let mut data = anmeldung();
    data["persons"][0]["family_name"] = "Nguyễn".into();
    let draft = {
        let mut s = f.unlock();
        s.create_draft("anmeldung", &data).expect("draft")
    };
    let file = f.dir.path().join("ausdruck.pdf");
    let file_arg = file.to_str().expect("utf8");
    let sig = f.dir.path().join("unterschrift.png");
    std::fs::write(&sig, signature_png()).expect("png");
    let sig_arg = sig.to_str().expect("utf8");

    let out = run(&mut fieldkit(
        home,
        &[
            "--json",
            "record",
            "printout",
            &draft,
            "--out",
            file_arg,
            "--signature",
            sig_arg,
        ],
    ));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read(&file).expect("file written");
    assert!(written.starts_with(b"%PDF-"));
    assert_eq!(json(&out)["bytes"], written.len());
    assert!(text_of(file_arg).contains("Nguyễn"));
    // It holds personal data: readable by its owner only.
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&file).expect("metadata").permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);

    // An existing file is not replaced without --force, and stays as it was.
    std::fs::write(&file, b"keep me").expect("overwrite");
    let again = run(&mut fieldkit(
        home,
        &["record", "printout", &draft, "--out", file_arg],
    ));
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(std::fs::read(&file).expect("file"), b"keep me");
    let forced = run(&mut fieldkit(
        home,
        &["record", "printout", &draft, "--out", file_arg, "--force"],
    ));
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert!(std::fs::read(&file).expect("file").starts_with(b"%PDF-"));

    // A wrong id and a folder that does not exist: clear errors, no file, no temp file.
    let missing = f.dir.path().join("fehlt.pdf");
    let unknown = run(&mut fieldkit(
        home,
        &[
            "record",
            "printout",
            "no-such-id",
            "--out",
            missing.to_str().expect("utf8"),
        ],
    ));
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("not found: draft or record no-such-id"),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );
    assert!(!missing.exists());
    let nowhere = f.dir.path().join("kein-ordner/ausdruck.pdf");
    let unwritable = run(&mut fieldkit(
        home,
        &[
            "record",
            "printout",
            &draft,
            "--out",
            nowhere.to_str().expect("utf8"),
        ],
    ));
    assert_eq!(unwritable.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&unwritable.stderr).contains("cannot write into"),
        "{}",
        String::from_utf8_lossy(&unwritable.stderr)
    );
    let leftovers: Vec<_> = std::fs::read_dir(f.dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".fieldkit-printout-")
        })
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

#[test]
fn a_finalized_record_prints_its_case_number_and_verification_code() {
    let f = enrolled_kit();
    let finalized = {
        let mut s = f.unlock();
        finalize_anmeldung(&mut s)
    };
    let file = f.dir.path().join("bestaetigung.pdf");
    let out = run(&mut fieldkit(
        f.kit.home().root(),
        &[
            "record",
            "printout",
            &finalized.case_number,
            "--out",
            file.to_str().expect("utf8"),
        ],
    ));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = text_of(file.to_str().expect("utf8"));
    assert!(text.contains(&finalized.case_number), "{text}");
    assert!(text.contains(&finalized.verification_code), "{text}");
    // Whom it is for, as the kit keeps it; the sealed data itself is not on it (the
    // kit cannot read it any more).
    let label = finalized.display_label.as_deref().expect("a named person");
    assert!(
        text.contains("Antrag für") && text.contains(label),
        "{text}"
    );
    for sealed in ["Lindenweg", "29.02.1984", "İzmir"] {
        assert!(!text.contains(sealed), "{sealed} is sealed: {text}");
    }
}
