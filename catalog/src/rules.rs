//! Fieldkit's additions to JSON Schema 2020-12, registered with the `jsonschema` crate:
//! the custom formats (`past-date`, `postcode-de`, `ars`, `person-name`,
//! `din91379-text`, `country-code`) and keywords (`x-minor-requires`, `x-min-age`) that catalog/README.md
//! documents. Rules that depend on the date take "today" at compile time, so a validator
//! is built per day.

use chrono::NaiveDate;
use jsonschema::{Keyword, ValidationError, Validator};
use serde_json::{Map, Value};

use crate::din91379::{self, DataType};

/// Custom formats: name, German and English explanation.
pub(crate) const FORMAT_MESSAGES: &[(&str, &str, &str)] = &[
    ("date", "muss ein Datum im Format JJJJ-MM-TT sein", "must be a date as YYYY-MM-DD"),
    ("past-date", "muss ein Datum sein, das nicht in der Zukunft liegt", "must be a date that is not in the future"),
    ("postcode-de", "muss eine fünfstellige deutsche Postleitzahl sein", "must be a five-digit German postcode"),
    ("ars", "muss ein Amtlicher Regionalschlüssel mit 2, 3, 5, 9 oder 12 Ziffern sein", "must be an official regional key of 2, 3, 5, 9 or 12 digits"),
    ("person-name", "darf nur lateinische Buchstaben nach DIN 91379 (auch mit diakritischen Zeichen), Leerzeichen, Bindestrich, Apostroph, Komma und Punkt enthalten und höchstens 120 Zeichen haben", "may contain only Latin letters per DIN 91379 (diacritics allowed), spaces, hyphens, apostrophes, commas and dots, and at most 120 characters"),
    ("din91379-text", "darf nur Zeichen nach DIN 91379 enthalten (lateinische Buchstaben, Ziffern, übliche Satzzeichen)", "may contain only characters per DIN 91379 (Latin letters, digits, common punctuation)"),
    ("country-code", "muss ein Staatencode aus zwei Großbuchstaben sein (ISO 3166-1, z. B. DE)", "must be a two-letter country code (ISO 3166-1, e.g. DE)"),
];

/// The most characters a `person-name` may have.
const PERSON_NAME_MAX_CHARS: usize = 120;

/// The DIN 91379 data type a format checks, if it is one of the DIN formats.
pub(crate) fn din91379_type(format: &str) -> Option<DataType> {
    match format {
        "person-name" => Some(DataType::A),
        "din91379-text" => Some(DataType::B),
        _ => None,
    }
}

/// `person-name`: DIN 91379 data type A (names of natural persons), in NFC, at most
/// 120 characters.
fn is_person_name(s: &str) -> bool {
    s.chars().count() <= PERSON_NAME_MAX_CHARS && din91379::is_valid(s, DataType::A)
}

/// `din91379-text`: DIN 91379 data type B (other names: streets, places, legal persons),
/// in NFC.
fn is_din91379_text(s: &str) -> bool {
    din91379::is_valid(s, DataType::B)
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
        .with_format("din91379-text", is_din91379_text)
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
            "N’Diaye",
        ] {
            assert!(is_person_name(good), "{good}");
        }
        for bad in [
            " Anna",
            "Anna ",
            "Anna  Maria",
            "R2D2",
            "Anna;",
            "Иванов",
            "王小明",
            &"a".repeat(121),
        ] {
            assert!(!is_person_name(bad), "{bad}");
        }
    }

    #[test]
    fn street_and_place_names_allow_digits_and_punctuation_but_no_other_script() {
        for good in [
            "Straße des 17. Juni",
            "Frankfurt (Oder)",
            "Am Markt 3/5",
            "Łódź",
        ] {
            assert!(is_din91379_text(good), "{good}");
        }
        for bad in ["Київ", "Tab\there", "Ort\u{a0}Name", "Straße 😀"] {
            assert!(!is_din91379_text(bad), "{bad}");
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
}
