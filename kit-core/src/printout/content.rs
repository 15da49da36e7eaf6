//! What the printout says about the form data: the catalog's UI schema walked in form
//! order with its German labels, as the review page shows it (`ui/src/forms/describe.ts`
//! is the app's twin of this walk). Simple fields become label/value rows; a list of
//! objects (the persons of an Anmeldung) becomes a table with one column per entry, so
//! the people who sign can compare their lines side by side.
//!
//! Pure: JSON in, [`Section`]s out.

use serde_json::Value;

use super::{Section, Table};

/// Entries of a list shown side by side in one table; more go into the next table.
const ENTRIES_PER_TABLE: usize = 2;

/// The form data as sections, one per top-level group of the UI schema (fields outside
/// any group go into a section titled `fallback_heading`). Empty fields and sections are
/// left out; hidden elements (by their `rule`) too.
pub(crate) fn sections(ui: &Value, data: &Value, fallback_heading: &str) -> Vec<Section> {
    let mut out = Vec::new();
    let mut loose = Section {
        heading: fallback_heading.to_owned(),
        tables: Vec::new(),
    };
    top_level(ui, data, &mut out, &mut loose);
    if !loose.tables.is_empty() {
        out.insert(0, loose);
    }
    out.retain(|s| s.tables.iter().any(|t| !t.rows.is_empty()));
    out
}

fn top_level(el: &Value, data: &Value, out: &mut Vec<Section>, loose: &mut Section) {
    if !visible(el, data) {
        return;
    }
    match el.get("type").and_then(Value::as_str) {
        Some("Group") => {
            let mut section = Section {
                heading: label(el).unwrap_or_default(),
                tables: Vec::new(),
            };
            let mut fields = Table::default();
            for child in children(el) {
                collect(child, data, &mut fields, &mut section.tables, "");
            }
            flush(&mut fields, &mut section.tables);
            out.push(section);
        }
        Some("Control") => {
            let mut fields = Table::default();
            collect(el, data, &mut fields, &mut loose.tables, "");
            flush(&mut fields, &mut loose.tables);
        }
        _ => {
            for child in children(el) {
                top_level(child, data, out, loose);
            }
        }
    }
}

/// Adds `el`'s rows to `fields`; a list of objects closes `fields` and adds its own
/// tables. `prefix` names the nested groups a field sits in.
fn collect(el: &Value, base: &Value, fields: &mut Table, tables: &mut Vec<Table>, prefix: &str) {
    if !visible(el, base) {
        return;
    }
    if el.get("type").and_then(Value::as_str) != Some("Control") {
        let prefix = match (el.get("type").and_then(Value::as_str), label(el)) {
            (Some("Group"), Some(group)) => join_label(prefix, &group),
            _ => prefix.to_owned(),
        };
        for child in children(el) {
            collect(child, base, fields, tables, &prefix);
        }
        return;
    }
    let path = scope(el);
    let value = at(base, &path);
    let name = join_label(prefix, &label(el).unwrap_or_else(|| path.join("/")));
    match (value, el.pointer("/options/detail")) {
        (Some(Value::Array(items)), Some(detail)) if !items.is_empty() => {
            flush(fields, tables);
            for (chunk_index, chunk) in items.chunks(ENTRIES_PER_TABLE).enumerate() {
                tables.push(entries_table(&name, detail, chunk, chunk_index));
            }
        }
        (Some(value), _) => {
            let shown = shown(el, value);
            if !shown.is_empty() {
                fields.rows.push(vec![name, shown]);
            }
        }
        (None, _) => {}
    }
}

/// One table for a few entries of a list of objects: a column per entry, a row per
/// field that any of them has.
fn entries_table(name: &str, detail: &Value, chunk: &[Value], chunk_index: usize) -> Table {
    let columns: Vec<Table> = chunk
        .iter()
        .map(|item| {
            let mut rows = Table::default();
            let mut nested = Vec::new();
            collect(detail, item, &mut rows, &mut nested, "");
            // A list inside a list entry (none in today's catalog) is flattened into rows.
            for t in nested {
                rows.rows.extend(t.rows);
            }
            rows
        })
        .collect();
    let mut labels: Vec<String> = Vec::new();
    for column in &columns {
        for row in &column.rows {
            if !labels.contains(&row[0]) {
                labels.push(row[0].clone());
            }
        }
    }
    let first = chunk_index * ENTRIES_PER_TABLE + 1;
    let mut header = vec!["Angabe".to_owned()];
    header.extend((0..chunk.len()).map(|i| format!("{name} {}", first + i)));
    let rows = labels
        .into_iter()
        .map(|label| {
            let mut row = vec![label.clone()];
            row.extend(columns.iter().map(|c| {
                c.rows
                    .iter()
                    .find(|r| r[0] == label)
                    .map(|r| r[1].clone())
                    .unwrap_or_default()
            }));
            row
        })
        .collect();
    Table {
        header: Some(header),
        rows,
    }
}

fn flush(fields: &mut Table, tables: &mut Vec<Table>) {
    if !fields.rows.is_empty() {
        tables.push(std::mem::take(fields));
    }
}

fn join_label(prefix: &str, label: &str) -> String {
    if prefix.is_empty() {
        label.to_owned()
    } else {
        format!("{prefix} – {label}")
    }
}

fn children(el: &Value) -> impl Iterator<Item = &Value> {
    el.get("elements")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn label(el: &Value) -> Option<String> {
    el.pointer("/label/de")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// `#/properties/a/properties/b` → `["a", "b"]`.
fn scope(el: &Value) -> Vec<String> {
    el.get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim_start_matches('#')
        .split('/')
        .filter(|s| !s.is_empty() && *s != "properties")
        .map(str::to_owned)
        .collect()
}

fn at<'a>(base: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(base, |v, key| v.get(key))
}

/// The UI's rule, as the app reads it: `const` and `enum` conditions; others hold.
fn visible(el: &Value, base: &Value) -> bool {
    let Some(rule) = el.get("rule") else {
        return true;
    };
    let condition = rule.get("condition").unwrap_or(&Value::Null);
    let value = at(base, &scope(condition)).unwrap_or(&Value::Null);
    let schema = condition.get("schema").unwrap_or(&Value::Null);
    let holds = if let Some(expected) = schema.get("const") {
        value == expected
    } else if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        options.contains(value)
    } else {
        true
    };
    match rule.get("effect").and_then(Value::as_str) {
        Some("SHOW") => holds,
        Some("HIDE") => !holds,
        _ => true,
    }
}

/// A value as the citizen reads it: enum labels, `ja`/`nein`, German dates, lists
/// joined with commas.
fn shown(control: &Value, value: &Value) -> String {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|v| scalar(control, v))
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        other => scalar(control, other),
    }
}

fn scalar(control: &Value, value: &Value) -> String {
    let text = match value {
        Value::Null => return String::new(),
        Value::Bool(true) => return "ja".to_owned(),
        Value::Bool(false) => return "nein".to_owned(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        // An object where the UI has no detail layout: its fields are printed by their
        // own controls, if any.
        Value::Array(_) | Value::Object(_) => return String::new(),
    };
    if let Some(label) = control
        .pointer("/options/enum_labels")
        .and_then(|labels| labels.get(&text))
        .and_then(|l| l.get("de"))
        .and_then(Value::as_str)
    {
        return label.to_owned();
    }
    if control.pointer("/options/widget").and_then(Value::as_str) == Some("date") {
        return german_date(&text);
    }
    text
}

/// `2026-11-21` → `21.11.2026`; anything else unchanged.
pub(crate) fn german_date(iso: &str) -> String {
    match chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d") {
        Ok(d) => d.format("%d.%m.%Y").to_string(),
        Err(_) => iso.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ui() -> Value {
        json!({"type": "VerticalLayout", "elements": [
            {"type": "Group", "label": {"de": "Personen", "en": "Persons"}, "elements": [
                {"type": "Control", "scope": "#/properties/persons",
                 "label": {"de": "Person", "en": "Person"},
                 "options": {"detail": {"type": "VerticalLayout", "elements": [
                    {"type": "Control", "scope": "#/properties/family_name",
                     "label": {"de": "Familienname", "en": "Family name"}},
                    {"type": "Control", "scope": "#/properties/sex",
                     "label": {"de": "Geschlecht", "en": "Sex"},
                     "options": {"enum_labels": {"weiblich": {"de": "weiblich", "en": "female"}}}},
                    {"type": "Group", "label": {"de": "Vertretung", "en": "Representative"}, "elements": [
                        {"type": "Control", "scope": "#/properties/rep/properties/family_name",
                         "label": {"de": "Familienname", "en": "Family name"}}]}
                 ]}}}
            ]},
            {"type": "Group", "label": {"de": "Wohnung", "en": "Dwelling"}, "elements": [
                {"type": "Control", "scope": "#/properties/move_in_date",
                 "label": {"de": "Einzugsdatum", "en": "Move-in date"}, "options": {"widget": "date"}},
                {"type": "Control", "scope": "#/properties/status",
                 "label": {"de": "Status", "en": "Status"}},
                {"type": "Control", "scope": "#/properties/landlord",
                 "label": {"de": "Wohnungsgeber", "en": "Landlord"},
                 "rule": {"effect": "SHOW", "condition": {"scope": "#/properties/status", "schema": {"const": "captured"}}}},
                {"type": "Control", "scope": "#/properties/empty",
                 "label": {"de": "Leer", "en": "Empty"}}
            ]}
        ]})
    }

    #[test]
    fn fields_follow_form_order_with_german_labels_and_hidden_ones_are_left_out() {
        let data = json!({
            "persons": [
                {"family_name": "Nguyễn", "sex": "weiblich"},
                {"family_name": "Þórðarson", "rep": {"family_name": "Dvořák"}},
                {"family_name": "Öztürk"}
            ],
            "move_in_date": "2026-11-21",
            "status": "missing",
            "landlord": "stale value behind a rule",
            "empty": ""
        });
        let s = sections(&ui(), &data, "Angaben");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].heading, "Personen");
        assert_eq!(s[0].tables.len(), 2, "two persons per table");
        let first = &s[0].tables[0];
        assert_eq!(
            first.header.as_deref(),
            Some(&["Angabe".to_owned(), "Person 1".into(), "Person 2".into()][..])
        );
        assert_eq!(first.rows[0], ["Familienname", "Nguyễn", "Þórðarson"]);
        assert_eq!(first.rows[1], ["Geschlecht", "weiblich", ""]);
        assert_eq!(first.rows[2], ["Vertretung – Familienname", "", "Dvořák"]);
        assert_eq!(s[0].tables[1].rows, [["Familienname", "Öztürk"]]);
        assert_eq!(s[1].heading, "Wohnung");
        assert_eq!(
            s[1].tables[0].rows,
            [["Einzugsdatum", "21.11.2026"], ["Status", "missing"]]
        );
    }
}
