//! Validating form data against a form version: JSON Schema 2020-12 through the
//! `jsonschema` crate, plus the few rules JSON Schema cannot state on its own (a date
//! not in the future, German postcodes, ARS, personal names, a minor needing a legal
//! representative), registered as custom formats and one custom keyword.
//!
//! Errors come back as data: the field's JSON pointer, its normalized path, the rule,
//! the field's label and a message, each in German and English.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use jsonschema::error::ValidationErrorKind;
use jsonschema::{Keyword, ValidationError, Validator};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::model::{FormVersion, Localized, Service};
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

/// Custom formats: name, German and English explanation.
const FORMAT_MESSAGES: &[(&str, &str, &str)] = &[
    ("date", "muss ein Datum im Format JJJJ-MM-TT sein", "must be a date as YYYY-MM-DD"),
    ("past-date", "muss ein Datum sein, das nicht in der Zukunft liegt", "must be a date that is not in the future"),
    ("postcode-de", "muss eine fünfstellige deutsche Postleitzahl sein", "must be a five-digit German postcode"),
    ("ars", "muss ein Amtlicher Regionalschlüssel mit 2, 3, 5, 9 oder 12 Ziffern sein", "must be an official regional key of 2, 3, 5, 9 or 12 digits"),
    ("person-name", "darf nur Buchstaben (auch mit Akzenten), Leerzeichen, Bindestrich, Apostroph und Punkt enthalten", "may contain only letters (accents allowed), spaces, hyphens, apostrophes and dots"),
    ("country-code", "muss ein Staatencode aus zwei Großbuchstaben sein (ISO 3166-1, z. B. DE)", "must be a two-letter country code (ISO 3166-1, e.g. DE)"),
];

fn is_person_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic())
        && s.chars().count() <= 120
        && s.chars().all(|c| c.is_alphabetic() || " -'’.".contains(c))
        && !s.contains("  ")
        && s.trim_end() == s
}

fn is_postcode_de(s: &str) -> bool {
    s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with("00")
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|d| d.format("%Y-%m-%d").to_string() == s)
}

/// Age in whole years on `day`.
fn age_on(birth: NaiveDate, day: NaiveDate) -> i32 {
    use chrono::Datelike;
    let mut age = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// `"x-minor-requires": {"birth_date": "date_of_birth", "age": 18, "required": [...]}`
/// on an object: when the birth date makes the person younger than `age` on the day of
/// validation, the listed properties are required.
struct MinorRequires {
    birth_field: String,
    age: i32,
    required: Vec<String>,
    today: NaiveDate,
}

impl MinorRequires {
    fn missing<'v>(&'v self, instance: &Value) -> Option<&'v str> {
        let obj = instance.as_object()?;
        let birth = parse_date(obj.get(&self.birth_field)?.as_str()?)?;
        if age_on(birth, self.today) >= self.age {
            return None;
        }
        self.required
            .iter()
            .find(|p| obj.get(p.as_str()).is_none_or(Value::is_null))
            .map(String::as_str)
    }
}

impl<'i> Keyword<'i> for MinorRequires {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        match self.missing(instance) {
            // The message carries the missing property; `to_field_error` turns it into a path.
            Some(prop) => Err(ValidationError::custom(format!("{}:{prop}", self.age))),
            None => Ok(()),
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        self.missing(instance).is_none()
    }
}

/// `"x-min-age": {"birth_date": "date_of_birth", "age": 14}` on an object: the person
/// must be at least `age` years old on the day of validation.
struct MinAge {
    birth_field: String,
    age: i32,
    today: NaiveDate,
}

impl MinAge {
    fn too_young(&self, instance: &Value) -> bool {
        instance
            .get(&self.birth_field)
            .and_then(Value::as_str)
            .and_then(parse_date)
            .is_some_and(|birth| age_on(birth, self.today) < self.age)
    }
}

impl<'i> Keyword<'i> for MinAge {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        if self.too_young(instance) {
            Err(ValidationError::custom(format!(
                "min-age:{}:{}",
                self.age, self.birth_field
            )))
        } else {
            Ok(())
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        !self.too_young(instance)
    }
}

fn min_age(value: &Value, today: NaiveDate) -> Result<MinAge, ValidationError<'static>> {
    let bad = || ValidationError::custom("x-min-age needs birth_date and age");
    Ok(MinAge {
        birth_field: value
            .get("birth_date")
            .and_then(Value::as_str)
            .ok_or_else(bad)?
            .to_owned(),
        age: value
            .get("age")
            .and_then(Value::as_i64)
            .and_then(|a| i32::try_from(a).ok())
            .ok_or_else(bad)?,
        today,
    })
}

/// Reads the keyword's value at schema compile time.
fn minor_requires(
    value: &Value,
    today: NaiveDate,
) -> Result<MinorRequires, ValidationError<'static>> {
    let bad = || ValidationError::custom("x-minor-requires needs birth_date, age and required");
    let birth_field = value
        .get("birth_date")
        .and_then(Value::as_str)
        .ok_or_else(bad)?;
    let age = value.get("age").and_then(Value::as_i64).ok_or_else(bad)?;
    let required = value
        .get("required")
        .and_then(Value::as_array)
        .ok_or_else(bad)?
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or_else(bad))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(MinorRequires {
        birth_field: birth_field.to_owned(),
        age: i32::try_from(age).map_err(|_| bad())?,
        required,
        today,
    })
}

/// Builds a JSON Schema 2020-12 validator with Fieldkit's formats and keyword.
pub(crate) fn compile(schema: &Value, today: NaiveDate) -> Result<Validator, String> {
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false)
        .with_format("past-date", move |s| {
            parse_date(s).is_some_and(|d| d <= today)
        })
        .with_format("postcode-de", is_postcode_de)
        .with_format("ars", |s| sync_protocol::ids::Ars::parse(s).is_ok())
        .with_format("person-name", is_person_name)
        .with_format("country-code", |s| {
            s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
        })
        .with_keyword(
            "x-min-age",
            move |_: &Map<String, Value>, value: &Value, _| {
                min_age(value, today).map(|k| Box::new(k) as Box<dyn for<'i> Keyword<'i>>)
            },
        )
        .with_keyword(
            "x-minor-requires",
            move |_: &Map<String, Value>, value: &Value, _| {
                minor_requires(value, today).map(|k| Box::new(k) as Box<dyn for<'i> Keyword<'i>>)
            },
        )
        .build(schema)
        .map_err(|e| e.to_string())
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

    fn field_error(&self, pointer: String, rule: &str, de: &str, en: &str) -> FieldError {
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
                de: format!("{name_de} {de}."),
                en: format!("{name_en} {en}."),
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
    fn person_names_allow_diacritics_and_several_parts() {
        for good in [
            "Müller-Lüdenscheidt",
            "Zoë",
            "O'Connor",
            "de la Cruz",
            "Şahin",
            "Dr. h.c.",
        ] {
            assert!(is_person_name(good), "{good}");
        }
        for bad in [
            "",
            " Anna",
            "Anna ",
            "Anna  Maria",
            "R2D2",
            "-Anna",
            "Anna;",
        ] {
            assert!(!is_person_name(bad), "{bad}");
        }
    }

    #[test]
    fn german_postcodes_are_five_digits_from_01() {
        assert!(is_postcode_de("01067"));
        assert!(is_postcode_de("64342"));
        for bad in ["00123", "6434", "643420", "6434a"] {
            assert!(!is_postcode_de(bad), "{bad}");
        }
    }

    #[test]
    fn age_counts_whole_years_including_the_birthday() {
        let d = |s| parse_date(s).expect("date");
        assert_eq!(age_on(d("2008-11-21"), d("2026-11-21")), 18);
        assert_eq!(age_on(d("2008-11-22"), d("2026-11-21")), 17);
        assert_eq!(age_on(d("2008-02-29"), d("2026-02-28")), 17);
    }

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
