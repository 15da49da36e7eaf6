//! The printout as the signature step shows it before the citizen signs: the same
//! content `kit-core` renders into the signed PDF ([`kit_core::printout::Printout`]), so
//! the citizen reads on screen exactly what the paper says.

use serde::Serialize;
use ts_rs::TS;

/// A label/value table; with `header`, the first row labels the columns.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PrintoutTableDto {
    /// Column headers, if any.
    pub header: Option<Vec<String>>,
    /// Rows: the label, then one value per column.
    pub rows: Vec<Vec<String>>,
}

/// A headed part of the form.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PrintoutSectionDto {
    /// The group's German label.
    pub heading: String,
    /// Its fields.
    pub tables: Vec<PrintoutTableDto>,
}

/// What the signed printout will say, in reading order (always German: the paper is).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PrintoutDto {
    /// Title and first heading.
    pub title: String,
    /// The line under the title.
    pub subtitle: String,
    /// Heading of the facts table.
    pub facts_heading: String,
    /// Service, clerk, date.
    pub facts: PrintoutTableDto,
    /// The form data.
    pub sections: Vec<PrintoutSectionDto>,
    /// Heading of the notice.
    pub notice_heading: String,
    /// The legal notice, one paragraph each.
    pub notice: Vec<String>,
    /// `Ort, Datum: …`.
    pub place_date: String,
    /// The caption under the signature line.
    pub signature_line: String,
}

impl From<kit_core::printout::Table> for PrintoutTableDto {
    fn from(t: kit_core::printout::Table) -> Self {
        Self {
            header: t.header,
            rows: t.rows,
        }
    }
}

impl From<kit_core::printout::Printout> for PrintoutDto {
    fn from(p: kit_core::printout::Printout) -> Self {
        Self {
            title: p.title,
            subtitle: p.subtitle,
            facts_heading: p.facts_heading,
            facts: p.facts.into(),
            sections: p
                .sections
                .into_iter()
                .map(|s| PrintoutSectionDto {
                    heading: s.heading,
                    tables: s.tables.into_iter().map(Into::into).collect(),
                })
                .collect(),
            notice_heading: p.notice_heading,
            notice: p.notice,
            place_date: p.place_date,
            signature_line: p.signature_line,
        }
    }
}
