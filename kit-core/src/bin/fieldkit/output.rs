//! Printing: human text or JSON on stdout, errors on stderr (as JSON with `--json`,
//! including every failing form field).

use kit_core::KitError;
use serde::Serialize;

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
