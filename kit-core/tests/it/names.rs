//! Names as DIN 91379 writes them, through the `fieldkit` binary: form data is stored and
//! sealed in Unicode normalization form C (a name typed decomposed finalizes as the same
//! name composed), names from every DIN 91379 group finalize, and other scripts, emoji
//! and control characters are refused at finalize with the character and its position,
//! in German and English, with nothing queued.

use std::path::Path;

use fieldkit_catalog::din91379::normalize_nfc;
use serde_json::Value;
use sync_protocol::record::SignedRecord;
use sync_protocol::seal::{self, CasePayload};

use crate::cli::{fieldkit, json, run, write_inputs};
use crate::support::{anmeldung, enrolled_kit, printout, Fixture};

/// `Nguyễn` as some keyboards, scanners and PDFs produce it: `e` + U+0302 + U+0303 (NFD).
const NGUYEN_DECOMPOSED: &str = "Nguye\u{302}\u{303}n";
/// The same name in NFC: U+1EC5 LATIN SMALL LETTER E WITH CIRCUMFLEX AND TILDE.
const NGUYEN: &str = "Nguy\u{1ec5}n";
/// `Hà Nội` decomposed (U+0300; U+0323 + U+0302), a place of birth (DIN 91379 type B).
const HA_NOI_DECOMPOSED: &str = "Ha\u{300} No\u{323}\u{302}i";
/// `Hà Nội` in NFC.
const HA_NOI: &str = "H\u{e0} N\u{1ed9}i";

/// Ten golden names from different DIN 91379 groups, as (first names, family name); a
/// `None` keeps the valid Anmeldung's own name.
const GOLDEN: [(Option<&str>, Option<&str>); 10] = [
    (Some("Łukasz"), Some("Żółć-Dąbrowski")), // Polish
    (None, Some("Dvořák")),                   // Czech
    (Some("Jānis"), Some("Bērziņš")),         // Latvian
    (Some("Þórður"), None),                   // Icelandic
    (Some("Ægir"), Some("Sørensen")),         // Danish / Norwegian
    (Some("Şükrü"), Some("Öztürk")),          // Turkish
    (Some("İlkay"), Some("Gündoğan")),        // Turkish dotted capital I
    (Some("Ștefan"), Some("Țăranu")),         // Romanian (comma below)
    (None, Some("Nguyễn")),                   // Vietnamese transliteration
    (Some("Ľubomír"), None),                  // Slovak
];

/// Writes `data` as a JSON file for `--data`.
fn data_file(dir: &Path, name: &str, data: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, data.to_string()).expect("write data");
    path.to_str().expect("utf8").to_owned()
}

/// `fieldkit --json record new --service anmeldung --data DATA --attach signed-printout=…`
/// with `--finalize` when asked.
fn record_new(f: &Fixture, data: &str, finalize: bool) -> std::process::Output {
    let (_, pdf) = write_inputs(f.dir.path());
    let attach = format!("signed-printout={}", pdf.display());
    let mut args = vec![
        "--json",
        "record",
        "new",
        "--service",
        "anmeldung",
        "--data",
        data,
        "--attach",
        attach.as_str(),
    ];
    if finalize {
        args.push("--finalize");
    }
    run(&mut fieldkit(f.kit.home().root(), &args))
}

/// The form data of every pending record, opened with its authority's key as the
/// back office would, in chain order.
fn sealed_form_data(f: &Fixture) -> Vec<Value> {
    let s = f.unlock();
    let kit_key = s.kit_public_key();
    s.pending_records(100)
        .expect("pending")
        .into_iter()
        .map(|p| {
            let signed = SignedRecord::verify(&p.envelope, f.kit_id, &kit_key).expect("verifies");
            let r = &signed.record;
            let sk = &f.authority_keys[r.authority_id.as_str()];
            let aad = seal::case_aad(&r.record_id, &f.kit_id, &r.authority_id);
            CasePayload::from_json(&seal::open(sk, &r.sealed, &aad).expect("opens"))
                .expect("case")
                .form_data
        })
        .collect()
}

/// Whether the draft's data as stored (not as `draft_data` returns it) holds any of the
/// combining marks of the decomposed test names: the store's own text, asked in SQL.
fn stored_decomposed(s: &kit_core::Session, draft: &str) -> bool {
    s.debug_execute(&format!(
        "UPDATE drafts SET updated_at = 'decomposed' WHERE id = '{draft}' AND (
             instr(data, char(0x300)) OR instr(data, char(0x302))
             OR instr(data, char(0x303)) OR instr(data, char(0x323)))"
    ));
    s.drafts()
        .expect("drafts")
        .iter()
        .any(|d| d.id == draft && d.updated_at == "decomposed")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_name_typed_decomposed_is_stored_and_sealed_in_nfc_and_finalizes() {
    assert_ne!(NGUYEN_DECOMPOSED, NGUYEN);
    assert_eq!(normalize_nfc(NGUYEN_DECOMPOSED), NGUYEN);
    assert_eq!(NGUYEN, "Nguyễn");
    let f = enrolled_kit();
    let home = f.kit.home().root().to_owned();

    // Saved as a draft from the command line, decomposed.
    let mut typed = anmeldung();
    typed["persons"][0]["family_name"] = NGUYEN_DECOMPOSED.into();
    typed["persons"][0]["place_of_birth"] = HA_NOI_DECOMPOSED.into();
    let file = data_file(f.dir.path(), "nfd.json", &typed);
    let out = record_new(&f, &file, false);
    assert!(out.status.success(), "{}", stderr(&out));
    let draft = json(&out)["draft_id"]
        .as_str()
        .expect("draft id")
        .to_owned();

    // Read back in NFC.
    let mut expected = anmeldung();
    expected["persons"][0]["family_name"] = NGUYEN.into();
    expected["persons"][0]["place_of_birth"] = HA_NOI.into();
    let mut s = f.unlock();
    assert!(!stored_decomposed(&s, &draft), "stored in NFC");
    assert_eq!(s.draft_data(&draft).expect("draft data"), expected);

    // An autosave (the app's `save_draft`) with the second person decomposed as well.
    typed["persons"][1]["family_name"] = NGUYEN_DECOMPOSED.into();
    s.update_draft(&draft, &typed).expect("autosave");
    expected["persons"][1]["family_name"] = NGUYEN.into();
    assert!(!stored_decomposed(&s, &draft), "stored in NFC");
    assert_eq!(s.draft_data(&draft).expect("draft data"), expected);
    // The printout attached with the draft shows the first person only as changed: it
    // is outdated, and the new one (of the NFC data) replaces it.
    let check = s.check_draft(&draft).expect("check");
    assert_eq!(check.outdated_printouts.len(), 1, "{check:?}");
    s.detach(&draft, &check.outdated_printouts[0])
        .expect("detach");
    s.attach(
        &draft,
        "signed-printout",
        "application/pdf",
        printout().as_slice(),
    )
    .expect("the new printout");
    let check = s.check_draft(&draft).expect("check");
    assert!(check.is_ready(), "{check:?}");
    drop(s);

    // Finalized from the command line; the sealed record holds the NFC names.
    let out = run(&mut fieldkit(
        &home,
        &["--json", "record", "finalize", &draft],
    ));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(json(&out)["case_number"].is_string());
    let sealed = sealed_form_data(&f);
    assert_eq!(sealed, [expected]);
    assert_eq!(sealed[0]["persons"][0]["family_name"], "Nguyễn");
    assert_eq!(sealed[0]["persons"][1]["family_name"], "Nguyễn");
}

#[test]
fn a_draft_stored_decomposed_before_normalization_is_sealed_in_nfc() {
    let f = enrolled_kit();
    let mut s = f.unlock();
    let draft = s.create_draft("anmeldung", &anmeldung()).expect("draft");
    s.attach(
        &draft,
        "signed-printout",
        "application/pdf",
        printout().as_slice(),
    )
    .expect("attach");
    // As an older kit-core stored it: the typed text unchanged.
    let mut old = anmeldung();
    old["persons"][0]["family_name"] = NGUYEN_DECOMPOSED.into();
    let text = old.to_string().replace('\'', "''");
    s.debug_execute(&format!(
        "UPDATE drafts SET data = '{text}' WHERE id = '{draft}'"
    ));
    // An older kit-core bound no printout to its data (schema version 5 and before).
    s.debug_execute(&format!(
        "UPDATE draft_attachments SET printed_data_sha256 = NULL WHERE draft_id = '{draft}'"
    ));
    assert!(
        stored_decomposed(&s, &draft),
        "the probe finds decomposed text"
    );
    assert_eq!(
        s.draft_data(&draft).expect("draft data")["persons"][0]["family_name"],
        NGUYEN,
        "read back in NFC"
    );
    drop(s);

    let out = run(&mut fieldkit(
        f.kit.home().root(),
        &["--json", "record", "finalize", &draft],
    ));
    assert!(out.status.success(), "{}", stderr(&out));
    let sealed = sealed_form_data(&f);
    assert_eq!(sealed.len(), 1);
    assert_eq!(sealed[0]["persons"][0]["family_name"], NGUYEN);
}

#[test]
fn a_cjk_first_name_is_refused_at_finalize_naming_the_character_and_nothing_is_queued() {
    let f = enrolled_kit();
    let home = f.kit.home().root().to_owned();
    let mut data = anmeldung();
    data["persons"][0]["first_names"] = "王小明".into();
    let file = data_file(f.dir.path(), "cjk.json", &data);
    let out = record_new(&f, &file, true);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err: Value = serde_json::from_slice(&out.stderr).expect("JSON error on stderr");
    let fields = err["fields"].as_array().expect("fields");
    assert_eq!(fields.len(), 1, "{err}");
    let field = &fields[0];
    assert_eq!(field["pointer"], "/persons/0/first_names");
    assert_eq!(field["rule"], "format:person-name");
    let de = field["message"]["de"].as_str().expect("de");
    let en = field["message"]["en"].as_str().expect("en");
    assert!(
        de.contains("Zeichen „王“ an Stelle 1 ist in Namen nicht zulässig (DIN 91379)"),
        "{de}"
    );
    assert!(
        en.contains("character '王' at position 1 is not allowed in names (DIN 91379)"),
        "{en}"
    );

    // Emoji and control characters, as a clerk reads them without --json.
    let mut data = anmeldung();
    data["persons"][1]["first_names"] = "Jürgen 😀".into();
    data["persons"][1]["family_name"] = "Öz\u{7}demir".into();
    let file = data_file(f.dir.path(), "emoji.json", &data);
    let (_, pdf) = write_inputs(f.dir.path());
    let out = run(&mut fieldkit(
        &home,
        &[
            "record",
            "new",
            "--service",
            "anmeldung",
            "--data",
            &file,
            "--attach",
            &format!("signed-printout={}", pdf.display()),
            "--finalize",
        ],
    ));
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let text = stderr(&out);
    for expected in [
        "/persons/1/first_names",
        "Zeichen „😀“ an Stelle 8 ist in Namen nicht zulässig",
        "character '😀' at position 8 is not allowed in names",
        "/persons/1/family_name",
        "Zeichen U+0007 an Stelle 3 ist in Namen nicht zulässig",
        "character U+0007 at position 3 is not allowed in names",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }

    // Nothing queued; both drafts are kept for fixing.
    let status = run(&mut fieldkit(&home, &["--json", "status"]));
    assert!(status.status.success(), "{}", stderr(&status));
    assert_eq!(json(&status)["pending"], 0);
    let s = f.unlock();
    assert!(s.records(None, 10).expect("records").is_empty());
    assert!(s.pending_records(10).expect("pending").is_empty());
    assert_eq!(s.drafts().expect("drafts").len(), 2);
}

#[test]
fn golden_names_from_every_din_91379_group_finalize_exactly_as_typed() {
    let f = enrolled_kit();
    let mut expected = Vec::new();
    for (i, (first, family)) in GOLDEN.into_iter().enumerate() {
        let mut data = anmeldung();
        let person = &mut data["persons"][0];
        if let Some(first) = first {
            assert_eq!(normalize_nfc(first), first, "the test's name is NFC");
            person["first_names"] = first.into();
            person["name_in_use"] = first.into();
        }
        if let Some(family) = family {
            assert_eq!(normalize_nfc(family), family, "the test's name is NFC");
            person["family_name"] = family.into();
        }
        let file = data_file(f.dir.path(), &format!("golden-{i}.json"), &data);
        let out = record_new(&f, &file, true);
        assert!(
            out.status.success(),
            "{first:?} {family:?}: {}",
            stderr(&out)
        );
        assert!(json(&out)["case_number"].is_string());
        expected.push(data);
    }
    let listed = run(&mut fieldkit(
        f.kit.home().root(),
        &["--json", "record", "list", "--state", "pending"],
    ));
    assert_eq!(
        json(&listed)["records"].as_array().map(Vec::len),
        Some(GOLDEN.len())
    );
    assert_eq!(sealed_form_data(&f), expected);
}
