//! The consistency check on the repository catalog and on deliberately broken copies:
//! each broken copy must be caught with a message that names the problem.

use fieldkit_catalog::check::check;
use fieldkit_catalog::Catalog;
use serde_json::{json, Value};

use crate::repo_catalog;

fn problems_after(mutate: impl FnOnce(&mut Catalog)) -> Vec<String> {
    let mut c = repo_catalog();
    mutate(&mut c);
    check(&c)
}

fn anmeldung_form(c: &mut Catalog) -> &mut fieldkit_catalog::FormVersion {
    let s = c
        .services
        .iter_mut()
        .find(|s| s.id.as_str() == "anmeldung")
        .expect("anmeldung");
    s.forms.last_mut().expect("a form")
}

fn assert_caught(problems: &[String], needle: &str) {
    assert!(
        problems.iter().any(|p| p.contains(needle)),
        "expected a problem containing {needle:?}, got {problems:#?}"
    );
}

#[test]
fn the_repository_catalog_is_consistent() {
    let c = repo_catalog();
    assert_eq!(check(&c), Vec::<String>::new());
    assert!(
        c.services.len() >= 9,
        "all services of the issue are present"
    );
}

#[test]
fn a_new_field_without_a_legal_basis_fails_data_minimisation() {
    let problems = problems_after(|c| {
        let form = anmeldung_form(c);
        form.schema["properties"]["religion_of_grandparents"] = json!({"type": "string"});
    });
    assert_caught(
        &problems,
        "field religion_of_grandparents has no legal basis",
    );
    assert_caught(
        &problems,
        "field religion_of_grandparents has no UI control",
    );
}

#[test]
fn a_legal_basis_note_for_a_field_that_does_not_exist_is_reported() {
    let problems = problems_after(|c| {
        anmeldung_form(c)
            .legal_basis
            .insert("shoe_size".into(), "none".into());
    });
    assert_caught(&problems, "legal basis for shoe_size, which is not a field");
}

#[test]
fn a_label_missing_in_english_is_reported() {
    let problems = problems_after(|c| {
        let ui = &mut anmeldung_form(c).ui;
        ui["elements"][0]["label"]["en"] = Value::String(String::new());
    });
    assert_caught(&problems, "text missing in German or English");
}

#[test]
fn an_enum_value_without_labels_and_a_control_for_a_missing_field_are_reported() {
    let problems = problems_after(|c| {
        let form = anmeldung_form(c);
        form.schema["properties"]["dwelling_type"]["enum"] =
            json!(["hauptwohnung", "nebenwohnung", "zweitwohnung"]);
        form.ui["elements"][1]["elements"][0]["scope"] = json!("#/properties/moving_date");
    });
    assert_caught(
        &problems,
        "value zweitwohnung has no German and English label",
    );
    assert_caught(
        &problems,
        "UI control moving_date is not a field of the schema",
    );
}

#[test]
fn a_schema_that_does_not_compile_and_a_wrong_dialect_are_reported() {
    let problems = problems_after(|c| {
        let form = anmeldung_form(c);
        form.schema["$schema"] = json!("http://json-schema.org/draft-07/schema#");
        form.schema["properties"]["move_in_date"]["minLength"] = json!("three");
    });
    assert_caught(&problems, "must declare $schema");
    assert_caught(&problems, "schema does not compile");
}

#[test]
fn services_unavailable_offline_must_say_why_and_have_no_form() {
    let problems = problems_after(|c| {
        let s = c
            .services
            .iter_mut()
            .find(|s| s.id.as_str() == "personalausweis")
            .expect("service");
        s.availability.reason = None;
    });
    assert_caught(
        &problems,
        "personalausweis: a service not available offline needs a reason",
    );
}

#[test]
fn an_unverified_leika_key_must_say_so() {
    let problems = problems_after(|c| {
        let s = c
            .services
            .iter_mut()
            .find(|s| !s.leika.verified)
            .expect("an unverified key exists");
        s.leika.note = String::new();
    });
    assert_caught(&problems, "unverified LeiKa key without a note");
}

#[test]
fn duplicate_authorities_and_wrong_ars_levels_are_reported() {
    let problems = problems_after(|c| {
        let mut twin = c.authorities[0].clone();
        twin.ars = None;
        c.authorities.push(twin);
    });
    assert_caught(&problems, "is listed twice");
    assert_caught(&problems, "needs an ARS of Some(12) digits");
}

#[test]
fn a_service_file_whose_id_differs_from_its_name_is_refused() {
    let dir = std::env::temp_dir().join(format!("fk-catalog-{}", std::process::id()));
    let src = std::path::Path::new(fieldkit_catalog::CATALOG_DIR);
    std::fs::create_dir_all(dir.join("services")).expect("temp dir");
    for f in ["catalog.json", "authorities.json", "routing.json"] {
        std::fs::copy(src.join(f), dir.join(f)).expect("copy");
    }
    std::fs::copy(
        src.join("services/anmeldung.json"),
        dir.join("services/registration.json"),
    )
    .expect("copy");
    let err = Catalog::from_dir(&dir).expect_err("refused");
    assert!(
        err.to_string().contains("differs from the file name"),
        "{err}"
    );
    std::fs::write(dir.join("routing.json"), "{\"rules\": 5}").expect("write");
    let err = Catalog::from_dir(&dir).expect_err("refused");
    assert!(err.to_string().contains("routing.json"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_new_form_version_keeps_the_old_one_readable() {
    use chrono::NaiveDate;
    use fieldkit_catalog::FormValidator;
    let mut c = repo_catalog();
    let s = c
        .services
        .iter_mut()
        .find(|s| s.id.as_str() == "meldebescheinigung")
        .expect("service");
    let mut v2 = s.forms.last().expect("v1").clone();
    v2.version += 1;
    v2.valid_from = NaiveDate::from_ymd_opt(2027, 1, 1).expect("date");
    s.forms.push(v2);
    assert_eq!(check(&c), Vec::<String>::new());
    let s = c.service("meldebescheinigung").expect("service");
    let before = NaiveDate::from_ymd_opt(2026, 12, 31).expect("date");
    let after = NaiveDate::from_ymd_opt(2027, 1, 1).expect("date");
    assert_eq!(s.current_form(before).map(|f| f.version), Some(1));
    assert_eq!(s.current_form(after).map(|f| f.version), Some(2));
    // A record captured with version 1 is still validated against version 1.
    assert!(FormValidator::new(s, s.form(1).expect("v1 kept"), after).is_ok());

    let s = c
        .services
        .iter_mut()
        .find(|s| s.id.as_str() == "meldebescheinigung")
        .expect("service");
    s.forms[1].version = 5;
    assert!(check(&c)
        .iter()
        .any(|p| p.contains("form version 5 where 2 was expected")));
}

#[test]
fn the_routing_field_must_be_a_required_ars_field() {
    let problems = problems_after(|c| {
        let s = c
            .services
            .iter_mut()
            .find(|s| s.id.as_str() == "anmeldung")
            .expect("anmeldung");
        s.residence_ars = Some("/new_address/city".into());
    });
    assert_caught(
        &problems,
        "residence_ars /new_address/city is not a required field with format ars",
    );
}

#[test]
fn every_service_carries_search_keywords_in_both_languages() {
    for s in repo_catalog().services {
        assert!(
            !s.keywords.de.is_empty() && !s.keywords.en.is_empty(),
            "{}: no search keywords in German and English",
            s.id
        );
    }
}

#[test]
fn a_service_without_keywords_still_loads_and_is_published_without_the_member() {
    // A service file as written before `keywords` existed.
    let mut file: Value = serde_json::from_str(include_str!("../../services/anmeldung.json"))
        .expect("the service file is JSON");
    file.as_object_mut()
        .expect("an object")
        .remove("keywords")
        .expect("the repository file has keywords");
    let older: fieldkit_catalog::Service =
        serde_json::from_value(file.clone()).expect("an older service file loads");
    assert!(older.keywords.is_empty());
    assert_eq!(
        serde_json::to_value(&older).expect("serializes"),
        file,
        "no keywords, no member: an older bundle serializes exactly as before"
    );
}

#[test]
fn blank_repeated_or_one_language_keywords_are_reported() {
    let problems = problems_after(|c| {
        let k = &mut c.services[0].keywords;
        k.de.push(" ".into());
        k.de.push(k.de[0].to_uppercase());
    });
    assert_caught(&problems, "is blank or has spaces at an end");
    assert_caught(&problems, "twice");
    let problems = problems_after(|c| c.services[0].keywords.en.clear());
    assert_caught(&problems, "keywords given in German or English only");
}
