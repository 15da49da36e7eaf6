//! Printing: human text or JSON on stdout, errors on stderr (as JSON with `--json`,
//! including every failing form field).

use kit_core::KitError;
use serde::Serialize;

/// A count with its German noun in the right number: `1 Datensatz`, `2 Datensätze`.
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// How to print.
pub struct Output {
    pub json: bool,
}

impl Output {
    /// Prints a value: as JSON, or with the given human rendering.
    pub fn print<T: Serialize>(&self, value: &T, human: impl FnOnce(&T) -> String) {
        if self.json {
            match serde_json::to_string(value) {
                Ok(s) => println!("{s}"),
                Err(e) => eprintln!("fieldkit: cannot print JSON: {e}"),
            }
        } else {
            println!("{}", human(value));
        }
    }

    /// Reports an error on stderr.
    pub fn error(&self, err: &anyhow::Error) {
        let fields = match err.downcast_ref::<KitError>() {
            Some(KitError::Validation(fields)) => fields.clone(),
            _ => Vec::new(),
        };
        if self.json {
            let body = serde_json::json!({ "error": format!("{err:#}"), "fields": fields });
            eprintln!("{body}");
        } else {
            eprintln!("fieldkit: {err:#}");
            for f in fields {
                eprintln!("  {} — {} / {}", f.pointer, f.message.de, f.message.en);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn counts_choose_singular_or_plural() {
        assert_eq!(count(0u64, "Datensatz", "Datensätze"), "0 Datensätze");
        assert_eq!(count(1u64, "Datensatz", "Datensätze"), "1 Datensatz");
        assert_eq!(count(2u64, "Datensatz", "Datensätze"), "2 Datensätze");
    }
}
