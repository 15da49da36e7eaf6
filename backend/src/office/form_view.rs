//! Form data for people: walks a form version's UI schema (JSON Forms-shaped, see
//! `catalog/README.md`) over the decrypted form data and yields sections of labelled
//! values in the page language — the catalog's labels and enum labels, never raw JSON
//! keys. Repeatable groups (the persons of an Anmeldung) become one section per entry.
//! Top-level data the UI schema does not show is listed at the end rather than dropped.
//!
//! Pure: no I/O, so it is table-tested here.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde_json::Value;

use super::i18n::Lang;

/// A run of labelled values under an optional heading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The heading text, if the section has one.
    pub heading: Option<String>,
    /// 3 for top-level groups, deeper for nested ones (at most 6).
    pub level: u8,
    /// Label and value pairs.
    pub fields: Vec<(String, String)>,
}

/// Renders `data` with the labels of `ui`.
pub fn render(ui: &Value, data: &Value, lang: Lang) -> Vec<Section> {
    let mut out = Out {
        sections: Vec::new(),
        lang,
    };
    let mut shown = BTreeSet::new();
    out.walk(ui, data, 3, Some(&mut shown));
    if let Some(object) = data.as_object() {
        let rest: Vec<(String, String)> = object
            .iter()
            .filter(|(k, v)| !shown.contains(k.as_str()) && !v.is_null())
            .map(|(k, v)| (k.clone(), plain(v, lang)))
            .collect();
        if !rest.is_empty() {
            out.sections.push(Section {
                heading: Some(lang.pick("Weitere Angaben", "Further data").to_owned()),
                level: 3,
                fields: rest,
            });
        }
    }
    without_empty(out.sections)
}

/// Drops sections that show nothing: a heading is kept only if it or a deeper section
/// before the next heading of its level has a value (an empty "Gesetzliche Vertretung"
/// of an adult is left out, not shown as a bare heading).
fn without_empty(sections: Vec<Section>) -> Vec<Section> {
    let mut kept: Vec<Section> = Vec::new();
    // Walk backwards, remembering for each level whether anything below it has values.
    let mut filled_below = [false; 8];
    for s in sections.into_iter().rev() {
        let level = usize::from(s.level.min(7));
        let below = filled_below[level + 1..].iter().any(|f| *f);
        let show = !s.fields.is_empty() || (s.heading.is_some() && below);
        if s.heading.is_some() {
            // A heading closes the sections deeper than it.
            for f in &mut filled_below[level + 1..] {
                *f = false;
            }
        }
        if show {
            filled_below[level] = true;
            kept.push(s);
        }
    }
    kept.reverse();
    kept
}

struct Out {
    sections: Vec<Section>,
    lang: Lang,
}

pub(super) fn localized(v: Option<&Value>, lang: Lang) -> Option<String> {
    let v = v?;
    v.get(lang.code())
        .or_else(|| v.get("de"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// `#/properties/a/properties/b` → `["a", "b"]`.
pub(super) fn scope_path(scope: &str) -> Vec<&str> {
    scope
        .trim_start_matches('#')
        .split("/properties/")
        .filter(|s| !s.is_empty())
        .collect()
}

fn plain(v: &Value, lang: Lang) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => lang.pick("ja", "yes").to_owned(),
        Value::Bool(false) => lang.pick("nein", "no").to_owned(),
        Value::Null => String::new(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items
            .iter()
            .map(|i| plain(i, lang))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", plain(v, lang)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

impl Out {
    fn field(&mut self, label: String, value: String, level: u8) {
        if self.sections.is_empty() {
            self.sections.push(Section {
                heading: None,
                level,
                fields: Vec::new(),
            });
        }
        if let Some(last) = self.sections.last_mut() {
            last.fields.push((label, value));
        }
    }

    fn open(&mut self, heading: Option<String>, level: u8) {
        self.sections.push(Section {
            heading,
            level: level.min(6),
            fields: Vec::new(),
        });
    }

    fn walk(
        &mut self,
        el: &Value,
        data: &Value,
        level: u8,
        mut shown: Option<&mut BTreeSet<String>>,
    ) {
        match el.get("type").and_then(Value::as_str) {
            Some("Group") => {
                self.open(localized(el.get("label"), self.lang), level);
                self.children(el, data, level + 1, shown);
                self.open(None, level);
            }
            Some("Control") => {
                let Some(scope) = el.get("scope").and_then(Value::as_str) else {
                    return;
                };
                let path = scope_path(scope);
                if let (Some(shown), Some(first)) = (shown.as_deref_mut(), path.first()) {
                    shown.insert((*first).to_owned());
                }
                let value = path.iter().try_fold(data, |d, key| d.get(key));
                let Some(value) = value.filter(|v| !v.is_null()) else {
                    return;
                };
                let label = localized(el.get("label"), self.lang)
                    .unwrap_or_else(|| path.last().copied().unwrap_or_default().to_owned());
                let options = el.get("options");
                let detail = options.and_then(|o| o.get("detail"));
                match (detail, value.as_array()) {
                    (Some(detail), Some(items)) => {
                        let entry = self.lang.pick("Eintrag", "Entry");
                        for (i, item) in items.iter().enumerate() {
                            self.open(Some(format!("{label} – {entry} {}", i + 1)), level);
                            self.walk(detail, item, level + 1, None);
                        }
                        self.open(None, level);
                    }
                    _ => {
                        let text = self.value_text(value, options);
                        self.field(label, text, level);
                    }
                }
            }
            _ => self.children(el, data, level, shown),
        }
    }

    fn children(
        &mut self,
        el: &Value,
        data: &Value,
        level: u8,
        mut shown: Option<&mut BTreeSet<String>>,
    ) {
        for child in el
            .get("elements")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.walk(child, data, level, shown.as_deref_mut());
        }
    }

    fn value_text(&self, value: &Value, options: Option<&Value>) -> String {
        value_text(value, options, self.lang)
    }
}

/// One value as a person reads it: the catalog's enum label, `ja`/`nein`, a German
/// date as `TT.MM.JJJJ`, lists joined with commas. Shared with the labelled CSV export
/// ([`super::export_columns`]) so a cell reads like the case page.
pub(super) fn value_text(value: &Value, options: Option<&Value>, lang: Lang) -> String {
    let labels = options.and_then(|o| o.get("enum_labels"));
    let one = |v: &Value| -> String {
        if let (Some(labels), Some(key)) = (labels, v.as_str()) {
            if let Some(text) = localized(labels.get(key), lang) {
                return text;
            }
        }
        match v {
            Value::Bool(true) => lang.pick("ja", "yes").to_owned(),
            Value::Bool(false) => lang.pick("nein", "no").to_owned(),
            Value::String(s) if lang == Lang::De => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_or_else(|_| s.clone(), |d| d.format("%d.%m.%Y").to_string()),
            other => plain(other, lang),
        }
    };
    match value {
        Value::Array(items) => items.iter().map(one).collect::<Vec<_>>().join(", "),
        other => one(other),
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
                 "label": {"de": "Personen", "en": "Persons"},
                 "options": {"widget": "repeatable", "detail": {"type": "VerticalLayout", "elements": [
                     {"type": "Control", "scope": "#/properties/family_name",
                      "label": {"de": "Familienname", "en": "Family name"}},
                     {"type": "Control", "scope": "#/properties/sex",
                      "label": {"de": "Geschlecht", "en": "Sex"},
                      "options": {"widget": "select", "enum_labels": {
                          "weiblich": {"de": "weiblich", "en": "female"}}}}
                 ]}}}
            ]},
            {"type": "Control", "scope": "#/properties/move_in_date",
             "label": {"de": "Einzugsdatum", "en": "Move-in date"}, "options": {"widget": "date"}},
            {"type": "Control", "scope": "#/properties/new_address/properties/street",
             "label": {"de": "Straße", "en": "Street"}},
            {"type": "Control", "scope": "#/properties/confirmed",
             "label": {"de": "Bestätigt", "en": "Confirmed"}, "options": {"widget": "checkbox"}}
        ]})
    }

    #[test]
    fn headings_with_nothing_under_them_are_left_out() {
        let section = |heading: Option<&str>, level: u8, fields: &[(&str, &str)]| Section {
            heading: heading.map(str::to_owned),
            level,
            fields: fields
                .iter()
                .map(|(l, v)| ((*l).to_owned(), (*v).to_owned()))
                .collect(),
        };
        let kept = without_empty(vec![
            section(Some("Person 1"), 3, &[("Name", "Öz")]),
            section(Some("Vertretung"), 4, &[]),
            section(Some("Ausweis"), 4, &[]),
            section(Some("Art"), 5, &[("Art", "Pass")]),
            section(None, 4, &[]),
            section(Some("Leer"), 3, &[]),
            section(Some("Leer innen"), 4, &[]),
        ]);
        let headings: Vec<_> = kept.iter().map(|s| s.heading.as_deref()).collect();
        assert_eq!(headings, [Some("Person 1"), Some("Ausweis"), Some("Art")]);
    }

    #[test]
    fn values_carry_the_catalog_labels_in_the_page_language() {
        let data = json!({
            "persons": [{"family_name": "Özdemir", "sex": "weiblich"}],
            "move_in_date": "2026-11-01",
            "new_address": {"street": "Hauptstraße 1"},
            "confirmed": false,
            "unlisted": "x"
        });
        let de = render(&ui(), &data, Lang::De);
        let fields: Vec<(String, String)> = de.iter().flat_map(|s| s.fields.clone()).collect();
        assert!(fields.contains(&("Familienname".into(), "Özdemir".into())));
        assert!(fields.contains(&("Einzugsdatum".into(), "01.11.2026".into())));
        assert!(fields.contains(&("Straße".into(), "Hauptstraße 1".into())));
        assert!(fields.contains(&("Bestätigt".into(), "nein".into())));
        assert!(de
            .iter()
            .any(|s| s.heading.as_deref() == Some("Personen – Eintrag 1")));
        assert!(
            fields.contains(&("unlisted".into(), "x".into())),
            "data the UI schema does not show is listed, not dropped"
        );
        let en = render(&ui(), &data, Lang::En);
        let fields: Vec<(String, String)> = en.iter().flat_map(|s| s.fields.clone()).collect();
        assert!(fields.contains(&("Sex".into(), "female".into())));
        assert!(fields.contains(&("Move-in date".into(), "2026-11-01".into())));
    }
}
