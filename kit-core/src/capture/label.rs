//! The display label of a record: whom it is for, as the clerk needs to find it again in
//! the queue, the history and the receipt ("Hildegard Schulze (+1)") once the form data
//! is sealed to the authority. It is personal data, so it stays in the encrypted store,
//! never leaves the kit (it is not part of any record or request) and is cleared when
//! the record is purged.

use serde_json::Value;

/// Where the catalog's forms keep the person an application is for, in order of
/// preference: the list of persons moving (Anmeldung), the one person (most services),
/// the applicant (driving licence).
const PERSON_POINTERS: [&str; 3] = ["/persons", "/person", "/applicant"];

/// The longest label kept, in characters (a long double name still fits a queue row).
const MAX_CHARS: usize = 80;

/// "First names Family name" of the form's person, with "(+n)" for n more persons; `None`
/// for a form without a named person (e.g. a certification of copies).
pub(crate) fn display_label(data: &Value) -> Option<String> {
    let (person, others) = PERSON_POINTERS
        .iter()
        .find_map(|p| match data.pointer(p)? {
            Value::Array(list) => Some((list.first()?, list.len().saturating_sub(1))),
            one @ Value::Object(_) => Some((one, 0)),
            _ => None,
        })?;
    let part = |key: &str| {
        person
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or_default()
    };
    let name = [part("first_names"), part("family_name")]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() {
        return None;
    }
    let name: String = name.chars().take(MAX_CHARS).collect();
    Some(if others > 0 {
        format!("{name} (+{others})")
    } else {
        name
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::display_label;

    #[test]
    fn the_first_person_is_named_and_the_others_counted() {
        let two = json!({"persons": [
            {"first_names": "Hildegard", "family_name": "Schulze"},
            {"first_names": "Karl", "family_name": "Schulze"}
        ]});
        assert_eq!(
            display_label(&two).as_deref(),
            Some("Hildegard Schulze (+1)")
        );
        let one = json!({"person": {"first_names": " Łukasz ", "family_name": "Żółć"}});
        assert_eq!(display_label(&one).as_deref(), Some("Łukasz Żółć"));
        let applicant = json!({"applicant": {"family_name": "Nguyễn"}});
        assert_eq!(display_label(&applicant).as_deref(), Some("Nguyễn"));
    }

    #[test]
    fn a_form_without_a_named_person_has_no_label() {
        assert_eq!(display_label(&json!({"documents": 3})), None);
        assert_eq!(display_label(&json!({"persons": []})), None);
        assert_eq!(
            display_label(&json!({"person": {"family_name": "  "}})),
            None
        );
        assert_eq!(display_label(&json!({"person": "Schulze"})), None);
    }

    #[test]
    fn a_long_name_is_cut_at_a_character_boundary() {
        let long = json!({"person": {"family_name": "Ö".repeat(200)}});
        let label = display_label(&long).expect("label");
        assert_eq!(label.chars().count(), 80);
    }
}
