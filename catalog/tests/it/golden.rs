//! Golden applications: `catalog/tests/golden/<service>/*.json`, each
//! `{"description", "covers", "today", "form_version"?, "data", "expect", "required_attachments"?}`
//! where `expect` lists every error as `{"pointer", "rule"}` (empty = valid). Run through
//! the same `FormValidator` kit-core uses.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::NaiveDate;
use fieldkit_catalog::{FormValidator, CATALOG_DIR};
use serde_json::Value;

use crate::repo_catalog;

fn goldens(service: &str) -> Vec<(String, Value)> {
    let dir = Path::new(CATALOG_DIR).join("tests/golden").join(service);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable golden file");
            let value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not JSON: {e}", p.display()));
            (
                p.file_name()
                    .expect("file name")
                    .to_string_lossy()
                    .into_owned(),
                value,
            )
        })
        .collect()
}

#[test]
fn every_golden_application_validates_exactly_as_recorded() {
    let catalog = repo_catalog();
    let mut failures = Vec::new();
    for service in catalog.services.iter().filter(|s| s.availability.offline) {
        let cases = goldens(service.id.as_str());
        let mut covers = BTreeSet::new();
        let mut valid = 0;
        for (file, case) in &cases {
            let today: NaiveDate = case["today"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .expect("today");
            let form = match case.get("form_version").and_then(Value::as_u64) {
                Some(v) => service.form(u32::try_from(v).expect("small")),
                None => service.current_form(today),
            }
            .expect("form version exists");
            let validator = FormValidator::new(service, form, today).expect("compiles");
            let errors = validator.validate(&case["data"]);
            let got: BTreeSet<(String, String)> = errors
                .iter()
                .map(|e| (e.pointer.clone(), e.rule.clone()))
                .collect();
            let want: BTreeSet<(String, String)> = case["expect"]
                .as_array()
                .expect("expect is an array")
                .iter()
                .map(|e| {
                    (
                        e["pointer"].as_str().expect("pointer").to_owned(),
                        e["rule"].as_str().expect("rule").to_owned(),
                    )
                })
                .collect();
            if got != want {
                failures.push(format!(
                    "{}/{file}: expected {want:?}, got {got:?}",
                    service.id
                ));
            }
            for e in &errors {
                assert!(
                    !e.message.de.is_empty() && !e.message.en.is_empty(),
                    "{file}: message in both languages"
                );
            }
            if want.is_empty() {
                valid += 1;
            }
            if let Some(atts) = case.get("required_attachments").and_then(Value::as_array) {
                let want: Vec<&str> = atts.iter().filter_map(Value::as_str).collect();
                let got = validator.required_attachments(&case["data"]);
                if got != want {
                    failures.push(format!(
                        "{}/{file}: required attachments {want:?}, got {got:?}",
                        service.id
                    ));
                }
            }
            for c in case["covers"].as_array().into_iter().flatten() {
                covers.insert(c.as_str().unwrap_or_default().to_owned());
            }
        }
        if valid < 1 {
            failures.push(format!(
                "{}: needs at least one valid golden application",
                service.id
            ));
        }
        for needed in ["missing-required", "wrong-format", "violated-condition"] {
            if !covers.contains(needed) {
                failures.push(format!(
                    "{}: no invalid golden application covers {needed}",
                    service.id
                ));
            }
        }
        if cases.len() - valid < 3 {
            failures.push(format!(
                "{}: needs at least three invalid applications",
                service.id
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches:\n{}",
        failures.join("\n")
    );
}

#[test]
fn errors_name_the_field_by_its_label_in_both_languages() {
    let catalog = repo_catalog();
    let service = catalog.service("anmeldung").expect("anmeldung");
    let today = NaiveDate::from_ymd_opt(2026, 11, 21).expect("date");
    let form = service.current_form(today).expect("form");
    let validator = FormValidator::new(service, form, today).expect("compiles");
    let errors = validator.validate(&serde_json::json!({
        "persons": [{"family_name": "Müller"}],
        "move_in_date": "2026-11-01",
        "new_address": {"street": "Lindenweg", "house_number": "3", "postal_code": "64390", "city": "Musterstadt", "ars": "064320001001"},
        "dwelling_type": "hauptwohnung",
        "landlord_confirmation": {"status": "missing"}
    }));
    let first_names = errors
        .iter()
        .find(|e| e.pointer == "/persons/0/first_names")
        .expect("missing first names reported");
    assert_eq!(first_names.rule, "required");
    assert!(
        first_names.message.de.contains("„Vornamen“"),
        "{}",
        first_names.message.de
    );
    assert!(
        first_names.message.en.contains("First names"),
        "{}",
        first_names.message.en
    );
}

#[test]
fn every_forbidden_field_is_reported_and_objects_are_named_by_their_group() {
    let catalog = repo_catalog();
    let service = catalog.service("anmeldung").expect("anmeldung");
    let today = NaiveDate::from_ymd_opt(2026, 11, 21).expect("date");
    let validator = FormValidator::new(service, service.current_form(today).expect("form"), today)
        .expect("compiles");
    let errors = validator.validate(&serde_json::json!({
        "persons": [{
            "relationship": "kind", "family_name": "Özdemir", "first_names": "Zoë",
            "date_of_birth": "2015-05-01", "place_of_birth": "Darmstadt", "sex": "weiblich",
            "nationalities": ["DE"], "religious_society": "keine", "family_status": "LD",
            "eye_colour": "grün", "school": "Grundschule"
        }],
        "move_in_date": "2026-11-01",
        "new_address": {"street": "Lindenweg", "house_number": "3", "postal_code": "64390", "city": "Musterstadt", "ars": "064320001001"},
        "dwelling_type": "hauptwohnung",
        "landlord_confirmation": {"status": "missing"}
    }));
    let forbidden: Vec<&str> = errors
        .iter()
        .filter(|e| e.rule == "not-allowed")
        .map(|e| e.pointer.as_str())
        .collect();
    assert_eq!(forbidden, ["/persons/0/eye_colour", "/persons/0/school"]);
    let rep = errors
        .iter()
        .find(|e| e.rule == "required-for-minor")
        .expect("minor rule");
    assert!(
        rep.message.de.contains("Gesetzliche Vertretung"),
        "{}",
        rep.message.de
    );
}
