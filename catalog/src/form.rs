//! Validating form data against a form version: JSON Schema 2020-12 through the
//! `jsonschema` crate with Fieldkit's formats and keywords (see `rules.rs`), and the
//! attachments a given application requires.
//!
//! Errors come back as data: the field's JSON pointer, its normalized path, the rule,
//! the field's label and a message, each in German and English.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::din91379;
use crate::model::{FormVersion, Localized, Service};
use crate::rules::{compile, din91379_type, FORMAT_MESSAGES};
use crate::CatalogError;

/// One problem with form data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON pointer into the data, e.g. `/persons/1/date_of_birth`.
    pub pointer: String,
    /// The field's path without array indices, e.g. `persons/date_of_birth`.
    pub field: String,
    /// The rule, e.g. `required`, `format:past-date`, `enum`, `required-for-minor`.
    pub rule: String,
    /// The field's label from the UI schema, when it has one.
    pub label: Option<Localized>,
    /// What is wrong and what to do, with the label, in both languages.
    pub message: Localized,
}

/// A compiled validator for one form version on one day (the day matters for rules like
/// "not in the future" and "under 18").
pub struct FormValidator {
    validator: Validator,
    labels: BTreeMap<String, Localized>,
    /// Attachment ids with their condition (`None`: always required).
    attachment_rules: Vec<(String, Option<Validator>)>,
}

/// Removes array indices from a JSON pointer: `/persons/0/name` → `persons/name`.
pub(crate) fn normalize(pointer: &str) -> String {
    pointer
        .split('/')
        .filter(|seg| !seg.is_empty() && !seg.bytes().all(|b| b.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join("/")
}

/// Collects the labels of every control in a UI schema, keyed by normalized path. A
/// group whose controls all lie inside one object also lends its label to that object,
/// so that "the legal representative is required" names the group the clerk sees.
pub(crate) fn collect_labels(ui: &Value, prefix: &str, out: &mut BTreeMap<String, Localized>) {
    collect_labels_inner(ui, prefix, out);
}

fn label_of(obj: &Map<String, Value>) -> Option<Localized> {
    obj.get("label")
        .and_then(|l| serde_json::from_value(l.clone()).ok())
}

/// Collects labels below `ui` and returns the paths of its controls.
fn collect_labels_inner(
    ui: &Value,
    prefix: &str,
    out: &mut BTreeMap<String, Localized>,
) -> Vec<String> {
    let Some(obj) = ui.as_object() else {
        return Vec::new();
    };
    let kind = obj.get("type").and_then(Value::as_str);
    let mut child_prefix = prefix.to_owned();
    let mut paths = Vec::new();
    if kind == Some("Control") {
        if let Some(scope) = obj.get("scope").and_then(Value::as_str) {
            let path = scope_to_path(prefix, scope);
            if let Some(label) = label_of(obj) {
                out.insert(path.clone(), label);
            }
            child_prefix.clone_from(&path);
            paths.push(path);
        }
    }
    for e in obj
        .get("elements")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        paths.extend(collect_labels_inner(e, prefix, out));
    }
    if let Some(detail) = obj.get("options").and_then(|o| o.get("detail")) {
        collect_labels_inner(detail, &child_prefix, out);
    }
    if kind == Some("Group") {
        let parents: Vec<&str> = paths
            .iter()
            .filter_map(|p| p.rsplit_once('/').map(|(parent, _)| parent))
            .collect();
        let shared = parents
            .first()
            .filter(|first| parents.len() == paths.len() && parents.iter().all(|p| p == *first));
        if let (Some(parent), Some(label)) = (shared, label_of(obj)) {
            out.entry((*parent).to_owned()).or_insert(label);
        }
    }
    paths
}

/// `#/properties/a/properties/b` under prefix `p` → `p/a/b`.
pub(crate) fn scope_to_path(prefix: &str, scope: &str) -> String {
    let own = scope
        .trim_start_matches('#')
        .split('/')
        .filter(|s| !s.is_empty() && *s != "properties")
        .collect::<Vec<_>>()
        .join("/");
    match (prefix.is_empty(), own.is_empty()) {
        (true, _) => own,
        (false, true) => prefix.to_owned(),
        (false, false) => format!("{prefix}/{own}"),
    }
}

impl FormValidator {
    /// Compiles the validator for `form` of `service`, for validation on `today`.
    ///
    /// # Errors
    /// [`CatalogError::Schema`] if the schema does not compile.
    pub fn new(
        service: &Service,
        form: &FormVersion,
        today: NaiveDate,
    ) -> Result<Self, CatalogError> {
        let validator = compile(&form.schema, today).map_err(|reason| CatalogError::Schema {
            service: service.id.to_string(),
            version: form.version,
            reason,
        })?;
        let mut labels = BTreeMap::new();
        collect_labels(&form.ui, "", &mut labels);
        let mut attachment_rules = Vec::new();
        for a in &service.attachments {
            match (&a.required_when, a.required) {
                (_, true) => attachment_rules.push((a.id.clone(), None)),
                (Some(cond), false) => {
                    let v = compile(cond, today).map_err(|reason| CatalogError::Schema {
                        service: service.id.to_string(),
                        version: form.version,
                        reason: format!("attachment {} condition: {reason}", a.id),
                    })?;
                    attachment_rules.push((a.id.clone(), Some(v)));
                }
                (None, false) => {}
            }
        }
        Ok(Self {
            validator,
            labels,
            attachment_rules,
        })
    }

    /// The ids of the attachments this form data requires: the always-required ones and
    /// those whose `required_when` condition the data meets.
    pub fn required_attachments(&self, data: &Value) -> Vec<&str> {
        self.attachment_rules
            .iter()
            .filter(|(_, cond)| cond.as_ref().is_none_or(|v| v.is_valid(data)))
            .map(|(id, _)| id.as_str())
            .collect()
    }

    /// Validates form data; an empty result means valid.
    pub fn validate(&self, data: &Value) -> Vec<FieldError> {
        let mut errors: Vec<FieldError> = self
            .validator
            .iter_errors(data)
            .flat_map(|e| self.to_field_errors(&e))
            .collect();
        errors.sort_by(|a, b| (&a.pointer, &a.rule).cmp(&(&b.pointer, &b.rule)));
        errors.dedup_by(|a, b| a.pointer == b.pointer && a.rule == b.rule);
        errors
    }

    /// One error per forbidden field, one for everything else.
    fn to_field_errors(&self, e: &ValidationError<'_>) -> Vec<FieldError> {
        match e.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected }
            | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
                let at = e.instance_path().as_str();
                unexpected
                    .iter()
                    .map(|name| {
                        self.field_error(
                            format!("{at}/{name}"),
                            "not-allowed",
                            "ist in diesem Formular nicht vorgesehen (Datensparsamkeit)",
                            "is not part of this form (data minimisation)",
                        )
                    })
                    .collect()
            }
            _ => self.to_field_error(e).into_iter().collect(),
        }
    }

    /// An error whose message is "label + predicate", e.g. „Vornamen“ ist ein Pflichtfeld.
    fn field_error(&self, pointer: String, rule: &str, de: &str, en: &str) -> FieldError {
        self.field_error_joined(pointer, rule, de, en, " ")
    }

    /// An error whose message is "label + `sep` + text"; `": "` for a text that is a
    /// sentence of its own, e.g. „Vornamen“: Zeichen „王“ an Stelle 1 ist … .
    fn field_error_joined(
        &self,
        pointer: String,
        rule: &str,
        de: &str,
        en: &str,
        sep: &str,
    ) -> FieldError {
        let field = normalize(&pointer);
        let label = self.labels.get(&field).cloned();
        let (name_de, name_en) = match &label {
            Some(l) => (format!("„{}“", l.de), format!("“{}”", l.en)),
            None if field.is_empty() => ("Das Formular".to_owned(), "The form".to_owned()),
            None => (format!("Feld {field}"), format!("Field {field}")),
        };
        FieldError {
            pointer,
            field,
            rule: rule.to_owned(),
            label,
            message: Localized {
                de: format!("{name_de}{sep}{de}."),
                en: format!("{name_en}{sep}{en}."),
            },
        }
    }

    fn to_field_error(&self, e: &ValidationError<'_>) -> Option<FieldError> {
        let at = e.instance_path().as_str().to_owned();
        let child = |name: &str| format!("{at}/{name}");
        let (pointer, rule, de, en): (String, String, String, String) = match e.kind() {
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                (
                    child(name),
                    "required".into(),
                    "ist ein Pflichtfeld".into(),
                    "is required".into(),
                )
            }
            ValidationErrorKind::Custom { message, .. } if message.starts_with("min-age:") => {
                let mut parts = message.splitn(3, ':').skip(1);
                let (age, field) = (parts.next()?, parts.next()?);
                (
                    child(field),
                    "min-age".into(),
                    format!(
                        "ergibt ein Alter unter {age} Jahren; der Antrag ist erst ab {age} möglich"
                    ),
                    format!("gives an age under {age}; the application is possible from {age} on"),
                )
            }
            ValidationErrorKind::Custom { message, .. } => {
                let (age, prop) = message.split_once(':')?;
                (
                    child(prop),
                    "required-for-minor".into(),
                    format!("ist Pflicht, weil die Person jünger als {age} Jahre ist"),
                    format!("is required because the person is younger than {age}"),
                )
            }
            ValidationErrorKind::Format { format } => {
                // The DIN 91379 formats name the offending character and its position.
                let refusal = din91379_type(format)
                    .zip(e.instance().as_str())
                    .and_then(|(ty, s)| din91379::check(s, ty).err());
                if let Some(r) = refusal {
                    let m = r.message();
                    let rule = format!("format:{format}");
                    return Some(self.field_error_joined(at, &rule, &m.de, &m.en, ": "));
                }
                let (_, de, en) = FORMAT_MESSAGES.iter().find(|(n, _, _)| n == format)?;
                (at, format!("format:{format}"), (*de).into(), (*en).into())
            }
            ValidationErrorKind::Type { .. } => (
                at,
                "type".into(),
                "hat den falschen Typ".into(),
                "has the wrong type".into(),
            ),
            ValidationErrorKind::Enum { .. } | ValidationErrorKind::Constant { .. } => (
                at,
                "enum".into(),
                "hat keinen der erlaubten Werte".into(),
                "is not one of the allowed values".into(),
            ),
            ValidationErrorKind::MinLength { limit } => (
                at,
                "min-length".into(),
                format!("muss mindestens {limit} Zeichen haben"),
                format!("must have at least {limit} characters"),
            ),
            ValidationErrorKind::MaxLength { limit } => (
                at,
                "max-length".into(),
                format!("darf höchstens {limit} Zeichen haben"),
                format!("may have at most {limit} characters"),
            ),
            ValidationErrorKind::MinItems { limit } => (
                at,
                "min-items".into(),
                format!("braucht mindestens {limit} Einträge"),
                format!("needs at least {limit} entries"),
            ),
            ValidationErrorKind::MaxItems { limit } => (
                at,
                "max-items".into(),
                format!("darf höchstens {limit} Einträge haben"),
                format!("may have at most {limit} entries"),
            ),
            ValidationErrorKind::Minimum { limit }
            | ValidationErrorKind::ExclusiveMinimum { limit } => (
                at,
                "minimum".into(),
                format!("muss mindestens {limit} sein"),
                format!("must be at least {limit}"),
            ),
            ValidationErrorKind::Maximum { limit }
            | ValidationErrorKind::ExclusiveMaximum { limit } => (
                at,
                "maximum".into(),
                format!("darf höchstens {limit} sein"),
                format!("may be at most {limit}"),
            ),
            ValidationErrorKind::Pattern { .. } => (
                at,
                "pattern".into(),
                "hat nicht das erwartete Format".into(),
                "does not have the expected format".into(),
            ),
            ValidationErrorKind::Contains => (
                at,
                "contains".into(),
                "enthält keinen Eintrag, der die Bedingung erfüllt".into(),
                "contains no entry that meets the condition".into(),
            ),
            ValidationErrorKind::UniqueItems => (
                at,
                "unique".into(),
                "enthält doppelte Einträge".into(),
                "contains duplicate entries".into(),
            ),
            // Composite keywords (if/then, allOf, oneOf) report their inner errors
            // separately; everything else falls back to a generic message.
            ValidationErrorKind::OneOfNotValid { .. } | ValidationErrorKind::AnyOf { .. } => (
                at,
                "one-of".into(),
                "passt zu keiner der erlaubten Varianten".into(),
                "matches none of the allowed variants".into(),
            ),
            _ => (
                at,
                "invalid".into(),
                "ist ungültig".into(),
                "is invalid".into(),
            ),
        };
        Some(self.field_error(pointer, &rule, &de, &en))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_normalize_to_field_paths() {
        assert_eq!(
            normalize("/persons/12/names/0/given"),
            "persons/names/given"
        );
        assert_eq!(
            scope_to_path("persons", "#/properties/family_name"),
            "persons/family_name"
        );
        assert_eq!(
            scope_to_path("", "#/properties/address/properties/street"),
            "address/street"
        );
    }
}
