//! One spreadsheet column per form field, for a CSV export of one service and one form
//! version ([`super::export_format`]): the columns are planned once from the version's
//! UI schema (labels, order) and JSON Schema (how many entries a list may have), then
//! every case fills the same columns, so the file keeps one shape from the first row to
//! the last.
//!
//! How a form is flattened:
//!
//! - a field's header is its catalog label in the page language (`Familienname`);
//! - a repeatable group (the persons of an Anmeldung) gets one set of columns per
//!   possible entry, up to the schema's `maxItems` (else [`DEFAULT_ENTRIES`]), the entry
//!   named by the group's label and number: `Meldepflichtige Personen 1: Familienname`,
//!   `Meldepflichtige Personen 2: Familienname`; nested groups nest the same way;
//! - a label that would occur twice gets the labels of its enclosing groups as well
//!   (`Bisherige Wohnung: Straße` next to `Neue Wohnung: Straße`), and if that is still
//!   ambiguous, the field's key in brackets;
//! - a list of plain values (nationalities, former names) is one cell, comma-separated;
//! - values read as on the case page ([`super::form_view::value_text`]): enum labels,
//!   `ja`/`nein`, dates `TT.MM.JJJJ` in German;
//! - whatever the columns cannot hold — top-level data the UI schema does not show,
//!   entries beyond a list's column count — goes as JSON into one last column
//!   (`Weitere Angaben`), so nothing the kit sent is dropped.
//!
//! Pure: no I/O, table-tested here.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::form_view::{localized, scope_path, value_text};
use super::i18n::Lang;

/// Columns per repeatable group whose schema sets no `maxItems`.
pub const DEFAULT_ENTRIES: usize = 10;

/// Between the parts of a header (`Meldepflichtige Personen 1: Familienname`).
const SEPARATOR: &str = ": ";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// What a part of a header names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PartKind {
    /// A group's label: shown only when needed to tell two columns apart.
    Group,
    /// An entry of a repeatable group (`Person 1`): always shown.
    Entry,
    /// The field's own label: always shown.
    Field,
}

/// One part of a header.
#[derive(Debug, Clone)]
struct Part {
    text: String,
    kind: PartKind,
}

#[derive(Debug, Clone)]
struct Column {
    header: String,
    path: Vec<Step>,
    options: Option<Value>,
}

/// A repeatable group: where its array is and how many entries have columns.
#[derive(Debug, Clone)]
struct Repeat {
    path: Vec<Step>,
    entries: usize,
}

/// The planned columns of one form version.
#[derive(Debug, Clone)]
pub struct FormColumns {
    columns: Vec<Column>,
    repeats: Vec<Repeat>,
    top_level: BTreeSet<String>,
    rest_header: String,
}

impl FormColumns {
    /// Plans the columns of a form version from its UI schema and JSON Schema.
    pub fn plan(ui: &Value, schema: &Value, lang: Lang) -> Self {
        let mut planner = Planner {
            lang,
            found: Vec::new(),
            repeats: Vec::new(),
            top_level: BTreeSet::new(),
        };
        planner.walk(ui, schema, &[], &[], true);
        let columns = unique_headers(planner.found);
        Self {
            columns,
            repeats: planner.repeats,
            top_level: planner.top_level,
            rest_header: lang.pick("Weitere Angaben", "Further data").to_owned(),
        }
    }

    /// The header cells, the last one for [`Self::row`]'s remainder.
    pub fn headers(&self) -> Vec<String> {
        self.columns
            .iter()
            .map(|c| c.header.clone())
            .chain([self.rest_header.clone()])
            .collect()
    }

    /// One case's cells, in the order of [`Self::headers`].
    pub fn row(&self, data: &Value, lang: Lang) -> Vec<String> {
        let mut cells: Vec<String> = self
            .columns
            .iter()
            .map(|c| match at(data, &c.path) {
                Some(v) if !v.is_null() => value_text(v, c.options.as_ref(), lang),
                _ => String::new(),
            })
            .collect();
        let mut rest = Map::new();
        if let Some(object) = data.as_object() {
            for (k, v) in object {
                if !self.top_level.contains(k) && !v.is_null() {
                    rest.insert(k.clone(), v.clone());
                }
            }
        }
        for r in &self.repeats {
            if let Some(items) = at(data, &r.path).and_then(Value::as_array) {
                if items.len() > r.entries {
                    rest.insert(
                        format!("{}[{}..]", path_text(&r.path), r.entries),
                        Value::Array(items[r.entries..].to_vec()),
                    );
                }
            }
        }
        cells.push(if rest.is_empty() {
            String::new()
        } else {
            Value::Object(rest).to_string()
        });
        cells
    }
}

struct Found {
    parts: Vec<Part>,
    key: String,
    path: Vec<Step>,
    options: Option<Value>,
}

struct Planner {
    lang: Lang,
    found: Vec<Found>,
    repeats: Vec<Repeat>,
    top_level: BTreeSet<String>,
}

impl Planner {
    /// `schema` is the object schema `el`'s scopes are relative to, `base` the data path
    /// of that object, `parts` the header parts so far.
    fn walk(&mut self, el: &Value, schema: &Value, base: &[Step], parts: &[Part], top: bool) {
        match el.get("type").and_then(Value::as_str) {
            Some("Group") => {
                let mut inner = parts.to_vec();
                if let Some(text) = localized(el.get("label"), self.lang) {
                    inner.push(Part {
                        text,
                        kind: PartKind::Group,
                    });
                }
                self.children(el, schema, base, &inner, top);
            }
            Some("Control") => {
                let Some(scope) = el.get("scope").and_then(Value::as_str) else {
                    return;
                };
                let keys = scope_path(scope);
                let Some(last) = keys.last() else {
                    return;
                };
                if top {
                    self.top_level.insert(keys[0].to_owned());
                }
                let field_schema = keys
                    .iter()
                    .try_fold(schema, |s, k| s.get("properties")?.get(*k));
                let mut path = base.to_vec();
                path.extend(keys.iter().map(|k| Step::Key((*k).to_owned())));
                let label =
                    localized(el.get("label"), self.lang).unwrap_or_else(|| (*last).to_owned());
                let options = el.get("options");
                if let Some(detail) = options.and_then(|o| o.get("detail")) {
                    let entries = field_schema
                        .and_then(|s| s.get("maxItems"))
                        .and_then(Value::as_u64)
                        .map_or(DEFAULT_ENTRIES, |n| usize::try_from(n).unwrap_or(0));
                    let item_schema = field_schema
                        .and_then(|s| s.get("items"))
                        .unwrap_or(&Value::Null);
                    self.repeats.push(Repeat {
                        path: path.clone(),
                        entries,
                    });
                    for i in 0..entries {
                        let mut entry_path = path.clone();
                        entry_path.push(Step::Index(i));
                        let mut inner = parts.to_vec();
                        inner.push(Part {
                            text: format!("{label} {}", i + 1),
                            kind: PartKind::Entry,
                        });
                        self.walk(detail, item_schema, &entry_path, &inner, false);
                    }
                } else {
                    let mut parts = parts.to_vec();
                    parts.push(Part {
                        text: label,
                        kind: PartKind::Field,
                    });
                    self.found.push(Found {
                        parts,
                        key: path_text(&path),
                        path,
                        options: options.cloned(),
                    });
                }
            }
            _ => self.children(el, schema, base, parts, top),
        }
    }

    fn children(&mut self, el: &Value, schema: &Value, base: &[Step], parts: &[Part], top: bool) {
        for child in el
            .get("elements")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.walk(child, schema, base, parts, top);
        }
    }
}

/// The header with the innermost `groups` group labels of the current entry (group
/// labels outside the innermost repeat entry are the same for all its fields, so they
/// never tell two of them apart).
fn header(parts: &[Part], groups: usize) -> String {
    let entry_start = parts.iter().rposition(|p| p.kind == PartKind::Entry);
    let inner_groups: Vec<usize> = parts
        .iter()
        .enumerate()
        .filter(|(i, p)| p.kind == PartKind::Group && entry_start.is_none_or(|s| *i > s))
        .map(|(i, _)| i)
        .collect();
    let shown: Vec<usize> = inner_groups.iter().rev().take(groups).copied().collect();
    parts
        .iter()
        .enumerate()
        .filter(|(i, p)| p.kind != PartKind::Group || shown.contains(i))
        .map(|(_, p)| p.text.as_str())
        .collect::<Vec<_>>()
        .join(SEPARATOR)
}

fn counts(headers: &[String]) -> HashMap<&str, usize> {
    let mut n: HashMap<&str, usize> = HashMap::new();
    for h in headers {
        *n.entry(h.as_str()).or_default() += 1;
    }
    n
}

/// Short headers where they are unique; where not, the entry's group labels from the
/// innermost outwards until they are; the key last.
fn unique_headers(found: Vec<Found>) -> Vec<Column> {
    let mut groups = vec![0; found.len()];
    let mut headers: Vec<String> = found.iter().map(|f| header(&f.parts, 0)).collect();
    loop {
        let n = counts(&headers);
        let mut next = headers.clone();
        let mut changed = false;
        for (i, f) in found.iter().enumerate() {
            if n[headers[i].as_str()] > 1 {
                let wider = header(&f.parts, groups[i] + 1);
                if wider != headers[i] {
                    groups[i] += 1;
                    next[i] = wider;
                    changed = true;
                }
            }
        }
        headers = next;
        if !changed {
            break;
        }
    }
    let n: HashMap<String, usize> = counts(&headers)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    found
        .into_iter()
        .zip(headers)
        .map(|(f, h)| Column {
            header: if n[&h] > 1 {
                format!("{h} [{}]", f.key)
            } else {
                h
            },
            path: f.path,
            options: f.options,
        })
        .collect()
}

fn at<'a>(data: &'a Value, path: &[Step]) -> Option<&'a Value> {
    path.iter().try_fold(data, |d, step| match step {
        Step::Key(k) => d.get(k),
        Step::Index(i) => d.get(*i),
    })
}

/// `persons[0].address.street` (indices from 0, as in the JSON).
fn path_text(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) if out.is_empty() => out.push_str(k),
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
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
                 "options": {"widget": "repeatable", "detail": {"type": "VerticalLayout", "elements": [
                     {"type": "Control", "scope": "#/properties/family_name",
                      "label": {"de": "Familienname", "en": "Family name"}},
                     {"type": "Control", "scope": "#/properties/nationalities",
                      "label": {"de": "Staatsangehörigkeiten", "en": "Nationalities"},
                      "options": {"widget": "repeatable"}},
                     {"type": "Group", "label": {"de": "Vertretung", "en": "Representative"}, "elements": [
                         {"type": "Control", "scope": "#/properties/rep/properties/family_name",
                          "label": {"de": "Familienname", "en": "Family name"}}
                     ]}
                 ]}}}
            ]},
            {"type": "Group", "label": {"de": "Neue Wohnung", "en": "New home"}, "elements": [
                {"type": "Control", "scope": "#/properties/new_address/properties/street",
                 "label": {"de": "Straße", "en": "Street"}}
            ]},
            {"type": "Group", "label": {"de": "Bisherige Wohnung", "en": "Previous home"}, "elements": [
                {"type": "Control", "scope": "#/properties/old_address/properties/street",
                 "label": {"de": "Straße", "en": "Street"}}
            ]},
            {"type": "Control", "scope": "#/properties/move_in_date",
             "label": {"de": "Einzugsdatum", "en": "Move-in date"}, "options": {"widget": "date"}},
            {"type": "Control", "scope": "#/properties/kind",
             "label": {"de": "Art", "en": "Kind"},
             "options": {"enum_labels": {"haupt": {"de": "Hauptwohnung", "en": "main home"}}}}
        ]})
    }

    fn schema() -> Value {
        json!({"type": "object", "properties": {
            "persons": {"type": "array", "maxItems": 2, "items": {"type": "object", "properties": {
                "family_name": {"type": "string"},
                "nationalities": {"type": "array"},
                "rep": {"type": "object", "properties": {"family_name": {"type": "string"}}}
            }}},
            "new_address": {"type": "object"},
            "old_address": {"type": "object"},
            "move_in_date": {"type": "string"},
            "kind": {"type": "string"}
        }})
    }

    #[test]
    fn headers_are_catalog_labels_with_entries_numbered_and_groups_only_where_needed() {
        let columns = FormColumns::plan(&ui(), &schema(), Lang::De);
        assert_eq!(
            columns.headers(),
            vec![
                "Person 1: Familienname",
                "Person 1: Staatsangehörigkeiten",
                "Person 1: Vertretung: Familienname",
                "Person 2: Familienname",
                "Person 2: Staatsangehörigkeiten",
                "Person 2: Vertretung: Familienname",
                "Neue Wohnung: Straße",
                "Bisherige Wohnung: Straße",
                "Einzugsdatum",
                "Art",
                "Weitere Angaben",
            ]
        );
        let en = FormColumns::plan(&ui(), &schema(), Lang::En).headers();
        assert_eq!(en[0], "Person 1: Family name");
        assert_eq!(en[10], "Further data");
    }

    #[test]
    fn a_row_fills_the_planned_columns_and_keeps_what_does_not_fit() {
        let columns = FormColumns::plan(&ui(), &schema(), Lang::De);
        let data = json!({
            "persons": [
                {"family_name": "Müller", "nationalities": ["DE", "PL"]},
                {"family_name": "Öz", "rep": {"family_name": "Öz-Ay"}},
                {"family_name": "Drei"}
            ],
            "new_address": {"street": "Hauptstraße 1"},
            "move_in_date": "2026-11-01",
            "kind": "haupt",
            "unlisted": 7
        });
        let row = columns.row(&data, Lang::De);
        assert_eq!(row.len(), columns.headers().len());
        assert_eq!(row[0], "Müller");
        assert_eq!(row[1], "DE, PL");
        assert_eq!(row[2], "");
        assert_eq!(row[3], "Öz");
        assert_eq!(row[5], "Öz-Ay");
        assert_eq!(row[6], "Hauptstraße 1");
        assert_eq!(row[7], "", "a missing value is an empty cell");
        assert_eq!(row[8], "01.11.2026");
        assert_eq!(row[9], "Hauptwohnung");
        let rest: Value = serde_json::from_str(&row[10]).expect("JSON remainder");
        assert_eq!(
            rest,
            json!({"unlisted": 7, "persons[2..]": [{"family_name": "Drei"}]}),
            "data without a column is kept, not dropped"
        );
    }

    #[test]
    fn labels_that_stay_ambiguous_get_their_key() {
        let ui = json!({"type": "VerticalLayout", "elements": [
            {"type": "Control", "scope": "#/properties/a", "label": {"de": "Name"}},
            {"type": "Control", "scope": "#/properties/b", "label": {"de": "Name"}}
        ]});
        let headers = FormColumns::plan(&ui, &json!({}), Lang::De).headers();
        assert_eq!(headers, vec!["Name [a]", "Name [b]", "Weitere Angaben"]);
    }
}
