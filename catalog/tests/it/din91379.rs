//! DIN 91379 against the vectors shared with the UI (`catalog/din91379/vectors.json`,
//! also checked by `ui/src/forms/din91379.test.ts`), and through the form validator: the
//! message of a refused name names the character and its position in both languages.

use std::path::Path;

use chrono::NaiveDate;
use fieldkit_catalog::din91379::{check, normalize_nfc, DataType, Refusal, RefusalKind};
use fieldkit_catalog::{FormValidator, CATALOG_DIR};
use serde_json::{json, Value};

use crate::repo_catalog;

fn vectors() -> Vec<Value> {
    let path = Path::new(CATALOG_DIR).join("din91379/vectors.json");
    let text = std::fs::read_to_string(&path).expect("vectors.json is readable");
    let doc: Value = serde_json::from_str(&text).expect("vectors.json is JSON");
    doc["vectors"].as_array().expect("vectors").clone()
}

/// A refusal as the vectors write it.
fn as_json(r: &Refusal) -> Value {
    let kind = match r.kind {
        RefusalKind::Character => "character",
        RefusalKind::Space => "space",
        RefusalKind::NotNfc => "not-nfc",
    };
    let m = r.message();
    json!({
        "kind": kind, "char": r.ch.to_string(), "shown": r.shown(), "position": r.position,
        "de": m.de, "en": m.en,
    })
}

fn outcome(s: &str, ty: DataType) -> Value {
    match check(s, ty) {
        Ok(()) => json!("ok"),
        Err(r) => as_json(&r),
    }
}

#[test]
fn the_shared_vectors_hold() {
    let mut failures = Vec::new();
    let all = vectors();
    for v in &all {
        let input = v["input"].as_str().expect("input");
        let ty = DataType::from_letter(v["type"].as_str().expect("type")).expect("A, B or C");
        let nfc = normalize_nfc(input);
        if nfc != v["nfc"] {
            failures.push(format!("{}: NFC {nfc:?}, want {}", v["group"], v["nfc"]));
        }
        let got = outcome(&nfc, ty);
        if got != v["expect"] {
            failures.push(format!("{}: {got}, want {}", v["group"], v["expect"]));
        }
        let raw_want = v.get("raw").unwrap_or(&v["expect"]);
        let raw = outcome(input, ty);
        if &raw != raw_want {
            failures.push(format!("{} (as typed): {raw}, want {raw_want}", v["group"]));
        }
    }
    assert!(all.len() > 50, "the vectors are there");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_refused_name_is_reported_with_character_and_position_in_both_languages() {
    let catalog = repo_catalog();
    let service = catalog.service("anmeldung").expect("anmeldung");
    let today = NaiveDate::from_ymd_opt(2026, 11, 21).expect("date");
    let validator = FormValidator::new(service, service.current_form(today).expect("form"), today)
        .expect("compiles");
    let errors = validator.validate(&json!({
        "persons": [{"family_name": "王", "first_names": "Anna\u{7}", "place_of_birth": "Київ"}],
        "new_address": {"street": "Straße des 17. Juni", "city": "Berlin"}
    }));
    let at = |p: &str| {
        errors
            .iter()
            .find(|e| e.pointer == p && e.rule.starts_with("format:"))
            .unwrap_or_else(|| panic!("no format error at {p}: {errors:#?}"))
    };
    let family = at("/persons/0/family_name");
    assert_eq!(family.rule, "format:person-name");
    assert_eq!(
        family.message.de,
        "„Familienname“: Zeichen „王“ an Stelle 1 ist in Namen nicht zulässig (DIN 91379)."
    );
    assert_eq!(
        family.message.en,
        "“Family name”: character '王' at position 1 is not allowed in names (DIN 91379)."
    );
    assert!(at("/persons/0/first_names")
        .message
        .de
        .contains("Zeichen U+0007 an Stelle 5"));
    let birthplace = at("/persons/0/place_of_birth");
    assert_eq!(birthplace.rule, "format:din91379-text");
    assert!(birthplace
        .message
        .en
        .contains("character 'К' at position 1"));
    assert!(
        !errors
            .iter()
            .any(|e| e.pointer.starts_with("/new_address") && e.rule.starts_with("format:")),
        "a street with digits is a DIN 91379 type B name: {errors:#?}"
    );
}

#[test]
fn a_decomposed_name_is_refused_as_stored_and_accepted_once_normalized() {
    let catalog = repo_catalog();
    let service = catalog.service("meldebescheinigung").expect("service");
    let today = NaiveDate::from_ymd_opt(2026, 11, 21).expect("date");
    let validator = FormValidator::new(service, service.current_form(today).expect("form"), today)
        .expect("compiles");
    let mut data = json!({"person": {"family_name": "Nguye\u{302}\u{303}n"}});
    let before = validator.validate(&data);
    let e = before
        .iter()
        .find(|e| e.pointer == "/person/family_name")
        .expect("NFD is refused as stored");
    assert!(e.message.de.contains("Normalform C"), "{}", e.message.de);
    fieldkit_catalog::din91379::normalize_nfc_json(&mut data);
    assert_eq!(data["person"]["family_name"], "Nguyễn");
    assert!(
        !validator
            .validate(&data)
            .iter()
            .any(|e| e.pointer == "/person/family_name"),
        "normalized, it is accepted"
    );
}

#[test]
fn the_generated_table_matches_the_vendored_published_list() {
    // `generate.py` writes din91379.json from source/latin_list_1.3.txt; this keeps the
    // two from drifting apart without needing Python in the test run.
    let dir = Path::new(CATALOG_DIR).join("din91379");
    let list = std::fs::read_to_string(dir.join("source/latin_list_1.3.txt")).expect("list");
    let table: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("din91379.json")).expect("table"))
            .expect("JSON");
    let groups = table["groups"].as_object().expect("groups");
    let mut from_list: Vec<(String, String)> = list
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut f = l.splitn(4, "; ");
            let group = f.next().expect("group").to_owned();
            let cps = f.nth(1).expect("code points").to_owned();
            (group, cps)
        })
        .filter(|(g, _)| groups.contains_key(g))
        .collect();
    let mut from_table: Vec<(String, String)> = groups
        .iter()
        .flat_map(|(g, v)| {
            v["entries"]
                .as_array()
                .expect("entries")
                .iter()
                .map(move |e| (g.clone(), e.as_str().expect("hex").to_owned()))
        })
        .collect();
    from_list.sort();
    from_table.sort();
    assert_eq!(from_table, from_list, "run catalog/din91379/generate.py");
    assert_eq!(from_table.len(), 649 + 18 + 60 + 6 + 4 + 20);
}
