//! Consistency checks of a whole catalog. [`check`] returns every problem it finds (an
//! empty list means consistent); loading refuses a catalog with problems, and the tests
//! run it on the catalog in this repository.
//!
//! What it enforces, beyond the types: schemas compile as JSON Schema 2020-12; every
//! field has a legal basis (data minimisation) and every legal-basis note names a real
//! field; every field appears in the UI schema with German and English labels, and
//! every enum value has labels in both languages; UI scopes point at real fields;
//! services not available offline say why; LeiKa keys that are not verified say so;
//! search keywords are neither blank nor repeated and come in both languages.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde_json::Value;
use sync_protocol::attachment::MAX_ATTACHMENT_BYTES;
use sync_protocol::record::Purpose;

use crate::form::scope_to_path;
use crate::model::{AuthorityKind, FormVersion, Keywords, Localized, Service};
use crate::rules::compile;
use crate::Catalog;

const SCHEMA_DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// Every inconsistency in `catalog`, as readable sentences.
pub fn check(catalog: &Catalog) -> Vec<String> {
    let mut p = Vec::new();
    let v = &catalog.meta.version;
    let parts: Vec<&str> = v.split('.').collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|x| x.is_empty() || !x.bytes().all(|b| b.is_ascii_digit()))
    {
        p.push(format!("catalog version {v:?} is not YEAR.MONTH.N"));
    }

    let mut ids = BTreeSet::new();
    for a in &catalog.authorities {
        if !ids.insert(a.id.as_str()) {
            p.push(format!("authority {} is listed twice", a.id));
        }
        let expected_len = match a.kind {
            AuthorityKind::Gemeinde => Some(12),
            AuthorityKind::Kreis => Some(5),
            AuthorityKind::Land => Some(2),
            AuthorityKind::Bund => None,
        };
        if a.ars.as_ref().map(|x| x.as_str().len()) != expected_len {
            p.push(format!(
                "authority {}: a {:?} needs an ARS of {expected_len:?} digits",
                a.id, a.kind
            ));
        }
    }

    let mut service_ids = BTreeSet::new();
    for s in &catalog.services {
        if !service_ids.insert(s.id.as_str()) {
            p.push(format!("service {} is listed twice", s.id));
        }
        check_service(s, &mut p);
    }

    for r in &catalog.routing {
        if !service_ids.contains(r.service.as_str()) {
            p.push(format!("routing rule for unknown service {}", r.service));
        }
        for id in [&r.receiving, &r.deciding].into_iter().flatten() {
            if catalog.authority(id.as_str()).is_none() {
                p.push(format!(
                    "routing rule for {} names unknown authority {id}",
                    r.service
                ));
            }
        }
        if r.ars_prefix.is_empty() || !r.ars_prefix.bytes().all(|b| b.is_ascii_digit()) {
            p.push(format!(
                "routing rule for {}: ars_prefix must be digits",
                r.service
            ));
        }
    }
    p
}

fn localized(p: &mut Vec<String>, what: &str, text: &Localized) {
    if text.de.trim().is_empty() || text.en.trim().is_empty() {
        p.push(format!("{what}: text missing in German or English"));
    }
}

/// Search words: none blank or listed twice in a language, and either none at all (an
/// older catalog) or some in both languages, as every other text.
fn check_keywords(id: &str, k: &Keywords, p: &mut Vec<String>) {
    if k.de.is_empty() != k.en.is_empty() {
        p.push(format!("{id}: keywords given in German or English only"));
    }
    for (lang, words) in [("de", &k.de), ("en", &k.en)] {
        let mut seen = BTreeSet::new();
        for w in words {
            if w.trim().is_empty() || w.trim() != w {
                p.push(format!(
                    "{id}: keyword {w:?} ({lang}) is blank or has spaces at an end"
                ));
            } else if !seen.insert(w.to_lowercase()) {
                p.push(format!("{id}: keyword {w:?} ({lang}) twice"));
            }
        }
    }
}

fn check_service(s: &Service, p: &mut Vec<String>) {
    let id = s.id.as_str();
    localized(p, &format!("{id}: name"), &s.name);
    localized(p, &format!("{id}: description"), &s.description);
    check_keywords(id, &s.keywords, p);
    if s.legal_basis.is_empty() {
        p.push(format!("{id}: no legal basis"));
    }
    if !s.leika.verified && s.leika.note.trim().is_empty() {
        p.push(format!(
            "{id}: unverified LeiKa key without a note saying so"
        ));
    }
    match (s.availability.offline, &s.availability.reason, &s.availability.legal_basis) {
        (true, None, None) => {
            if s.forms.is_empty() {
                p.push(format!("{id}: available offline but has no form"));
            }
        }
        (false, Some(reason), Some(_)) => {
            localized(p, &format!("{id}: availability reason"), reason);
            if !s.forms.is_empty() || !s.attachments.is_empty() {
                p.push(format!("{id}: not available offline, so it must have no form or attachments"));
            }
        }
        _ => p.push(format!("{id}: a service not available offline needs a reason and its legal basis, others neither")),
    }
    if let Some(fee) = &s.fee {
        localized(p, &format!("{id}: fee note"), &fee.note);
        let mut seen = BTreeSet::new();
        for w in &fee.waiver_reasons {
            localized(p, &format!("{id}: waiver reason {}", w.id), &w.label);
            if !seen.insert(&w.id) {
                p.push(format!("{id}: waiver reason {} twice", w.id));
            }
        }
    }
    let mut att_ids = BTreeSet::new();
    for a in &s.attachments {
        if !att_ids.insert(a.id.as_str()) {
            p.push(format!("{id}: attachment {} twice", a.id));
        }
        localized(p, &format!("{id}: attachment {} label", a.id), &a.label);
        if let Some(h) = &a.help {
            localized(p, &format!("{id}: attachment {} help", a.id), h);
        }
        if a.media_types.is_empty() || a.max_bytes == 0 || a.max_bytes > MAX_ATTACHMENT_BYTES {
            p.push(format!(
                "{id}: attachment {} needs media types and a size limit up to the protocol's",
                a.id
            ));
        }
        if let Some(cond) = &a.required_when {
            if a.required {
                p.push(format!(
                    "{id}: attachment {} is required both always and conditionally",
                    a.id
                ));
            }
            if let Err(e) = compile(cond, NaiveDate::MIN) {
                p.push(format!(
                    "{id}: attachment {} condition does not compile: {e}",
                    a.id
                ));
            }
        }
    }
    if s.signed_printout_required
        && !s
            .attachments
            .iter()
            .any(|a| a.required && a.purpose == Purpose::Form)
    {
        p.push(format!("{id}: a signed printout is required, so a required attachment with purpose form must exist"));
    }
    let mut last: Option<&FormVersion> = None;
    for form in &s.forms {
        if let Some(pointer) = &s.residence_ars {
            if !ars_field_exists(&form.schema, pointer) {
                p.push(format!(
                    "{id} v{}: residence_ars {pointer} is not a required field with format ars",
                    form.version
                ));
            }
        }
        let expected = last.map_or(1, |l| l.version + 1);
        if form.version != expected {
            p.push(format!(
                "{id}: form version {} where {expected} was expected",
                form.version
            ));
        }
        if last.is_some_and(|l| l.valid_from > form.valid_from) {
            p.push(format!(
                "{id}: form v{} is valid before its predecessor",
                form.version
            ));
        }
        check_form(id, form, p);
        last = Some(form);
    }
}

/// Whether `pointer` (e.g. `/person/address/ars`) names a field with format `ars` that
/// is required all the way down, so that every valid application can be routed.
fn ars_field_exists(schema: &Value, pointer: &str) -> bool {
    let mut node = schema;
    for name in pointer.split('/').skip(1) {
        let required = node
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(|r| r.iter().any(|v| v.as_str() == Some(name)));
        match node.get("properties").and_then(|p| p.get(name)) {
            Some(next) if required => node = next,
            _ => return false,
        }
    }
    node.get("format").and_then(Value::as_str) == Some("ars")
}

/// Every field path a schema declares (without array indices), and the enum values of
/// each field.
fn collect_fields(schema: &Value, prefix: &str, out: &mut BTreeMap<String, Vec<String>>) {
    let Some(obj) = schema.as_object() else {
        return;
    };
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (name, sub) in props {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            let enums = sub
                .get("enum")
                .or_else(|| sub.get("items").and_then(|i| i.get("enum")))
                .and_then(Value::as_array)
                .map(|vals| {
                    vals.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            out.entry(path.clone()).or_insert(enums);
            collect_fields(sub, &path, out);
        }
    }
    if let Some(items) = obj.get("items") {
        collect_fields(items, prefix, out);
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for sub in obj.get(key).and_then(Value::as_array).into_iter().flatten() {
            collect_fields(sub, prefix, out);
        }
    }
    for key in ["if", "then", "else"] {
        if let Some(sub) = obj.get(key) {
            // Conditions only constrain fields declared elsewhere; their own `properties`
            // must not introduce new ones, which the caller checks.
            collect_fields(sub, prefix, out);
        }
    }
}

struct UiFacts {
    controls: BTreeMap<String, Value>,
}

fn walk_ui(ui: &Value, prefix: &str, where_: &str, facts: &mut UiFacts, p: &mut Vec<String>) {
    let Some(obj) = ui.as_object() else {
        p.push(format!("{where_}: UI element is not an object"));
        return;
    };
    let kind = obj.get("type").and_then(Value::as_str).unwrap_or("");
    for key in ["label", "help"] {
        if let Some(text) = obj.get(key) {
            match serde_json::from_value::<Localized>(text.clone()) {
                Ok(l) => localized(p, &format!("{where_}: {kind} {key}"), &l),
                Err(_) => p.push(format!("{where_}: {kind} {key} must be {{\"de\", \"en\"}}")),
            }
        }
    }
    let mut child_prefix = prefix.to_owned();
    match kind {
        "Control" => {
            let Some(scope) = obj.get("scope").and_then(Value::as_str) else {
                p.push(format!("{where_}: Control without scope"));
                return;
            };
            let path = scope_to_path(prefix, scope);
            if obj.get("label").is_none() {
                p.push(format!("{where_}: Control {path} has no label"));
            }
            facts.controls.insert(
                path.clone(),
                obj.get("options").cloned().unwrap_or(Value::Null),
            );
            child_prefix = path;
        }
        "VerticalLayout" | "HorizontalLayout" | "Group" => {}
        other => p.push(format!("{where_}: unknown UI element type {other:?}")),
    }
    for (i, e) in obj
        .get("elements")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        walk_ui(e, prefix, &format!("{where_}/{i}"), facts, p);
    }
    if let Some(detail) = obj.get("options").and_then(|o| o.get("detail")) {
        walk_ui(detail, &child_prefix, &format!("{where_}/detail"), facts, p);
    }
    if let Some(rule) = obj.get("rule") {
        let scope = rule
            .get("condition")
            .and_then(|c| c.get("scope"))
            .and_then(Value::as_str);
        match scope {
            Some(s) => {
                facts
                    .controls
                    .entry(format!("\u{0}rule:{}", scope_to_path(prefix, s)))
                    .or_insert(Value::Null);
            }
            None => p.push(format!("{where_}: rule without condition scope")),
        }
    }
}

fn check_form(id: &str, form: &FormVersion, p: &mut Vec<String>) {
    let at = format!("{id} v{}", form.version);
    if form.schema.get("$schema").and_then(Value::as_str) != Some(SCHEMA_DIALECT) {
        p.push(format!(
            "{at}: schema must declare $schema {SCHEMA_DIALECT}"
        ));
    }
    if let Err(e) = compile(&form.schema, NaiveDate::MIN) {
        p.push(format!("{at}: schema does not compile: {e}"));
    }
    let mut fields = BTreeMap::new();
    collect_fields(&form.schema, "", &mut fields);
    let covered = |path: &str| {
        let mut cur = path;
        loop {
            if form.legal_basis.contains_key(cur) {
                return true;
            }
            match cur.rsplit_once('/') {
                Some((parent, _)) => cur = parent,
                None => return false,
            }
        }
    };
    for f in fields.keys() {
        if !covered(f) {
            p.push(format!(
                "{at}: field {f} has no legal basis (add one or remove the field)"
            ));
        }
    }
    for (key, basis) in &form.legal_basis {
        if !fields.contains_key(key) {
            p.push(format!("{at}: legal basis for {key}, which is not a field"));
        }
        if basis.trim().is_empty() {
            p.push(format!("{at}: empty legal basis for {key}"));
        }
    }

    let mut facts = UiFacts {
        controls: BTreeMap::new(),
    };
    walk_ui(&form.ui, "", &format!("{at} ui"), &mut facts, p);
    for (path, options) in &facts.controls {
        if let Some(rule_path) = path.strip_prefix("\u{0}rule:") {
            if !fields.contains_key(rule_path) {
                p.push(format!(
                    "{at}: UI rule refers to {rule_path}, which is not a field"
                ));
            }
            continue;
        }
        let Some(enums) = fields.get(path) else {
            p.push(format!(
                "{at}: UI control {path} is not a field of the schema"
            ));
            continue;
        };
        for value in enums {
            let label = options.get("enum_labels").and_then(|l| l.get(value));
            match label.map(|l| serde_json::from_value::<Localized>(l.clone())) {
                Some(Ok(l)) => localized(p, &format!("{at}: {path} value {value}"), &l),
                _ => p.push(format!(
                    "{at}: {path} value {value} has no German and English label"
                )),
            }
        }
    }
    // Every leaf field must be shown; objects and arrays are shown through their children.
    for (path, _) in fields.iter() {
        let has_children = fields.keys().any(|k| k.starts_with(&format!("{path}/")));
        if !has_children && !facts.controls.contains_key(path) {
            p.push(format!("{at}: field {path} has no UI control"));
        }
    }
}
