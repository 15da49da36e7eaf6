//! The printout the citizen signs — one implementation for the app, the CLI and the
//! tests. A draft prints as the form's fields with the catalog's German labels in form
//! order (persons side by side in a table), the legal notice, place and date and the
//! signature; a finalized record, whose data is sealed to its authority and no longer
//! readable on the kit, prints as a confirmation with its case number and verification
//! code.
//!
//! The PDF is PDF/A-3a and PDF/UA-1 (tagged, accessible) with the Noto Sans faces in
//! `fonts/` embedded as subsets; they cover every DIN 91379 character, so
//! `Łukasz Żółć-Dąbrowski` signs a paper that says exactly that. The writer (krilla)
//! validates both standards while writing and a document that violates either is
//! refused ([`PrintoutError::NotConforming`]), never written.
//!
//! `content.rs` turns form data into rows, `layout.rs` sets them on pages, `pdf.rs`
//! writes the PDF, `session.rs` gathers what a draft or record says.

mod content;
mod fonts;
mod layout;
mod pdf;
mod session;

use thiserror::Error;

pub use pdf::DATA_FILE_NAME;
pub use session::PrintoutOptions;

/// Why no printout was made.
#[derive(Debug, Error)]
pub enum PrintoutError {
    /// The document would violate PDF/A-3a or PDF/UA-1; nothing was produced. Each entry
    /// names one violation (never the document's text).
    #[error("the printout would not be valid PDF/A-3a and PDF/UA-1, so none was made: {}", .0.join("; "))]
    NotConforming(Vec<String>),
    /// The signature image could not be read.
    #[error("the signature image is not a PNG the printout can use: {0}")]
    BadSignature(String),
    /// The PDF writer failed for another reason.
    #[error("the PDF writer failed: {0}")]
    Writer(String),
}

/// Everything a printout shows, in reading order. Build one with
/// [`crate::Session::printout`], or by hand (tests, other documents of the same look).
#[derive(Debug, Clone)]
pub struct Printout {
    /// Document title and first heading, e.g. `Antrag: Anmeldung / Ummeldung einer Wohnung`.
    pub title: String,
    /// The line under the title.
    pub subtitle: String,
    /// Heading of the facts table.
    pub facts_heading: String,
    /// Service, case number, verification code, clerk, dates: label/value rows.
    pub facts: Table,
    /// The form data.
    pub sections: Vec<Section>,
    /// Heading of the notice.
    pub notice_heading: String,
    /// The legal notice, one paragraph each.
    pub notice: Vec<String>,
    /// `Ort, Datum: …`.
    pub place_date: String,
    /// The citizen's signature, if captured.
    pub signature: Option<Signature>,
    /// The caption under the signature line.
    pub signature_line: String,
    /// Attached to the PDF as [`DATA_FILE_NAME`] (PDF/A-3 associated file), if any.
    pub attached_data: Option<Vec<u8>>,
    /// When the printout was made (document metadata).
    pub created: chrono::NaiveDateTime,
}

/// A headed part of the form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Section {
    /// The group's German label.
    pub heading: String,
    /// Its fields: label/value tables, and a table per few entries of a list.
    pub tables: Vec<Table>,
}

/// A table whose first column labels each row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// Column headers, if the table has them.
    pub header: Option<Vec<String>>,
    /// Rows: the label, then one value per column.
    pub rows: Vec<Vec<String>>,
}

/// The signature image.
#[derive(Debug, Clone)]
pub struct Signature {
    /// PNG bytes.
    pub png: Vec<u8>,
    /// What a screen reader says for it. Must not be empty (PDF/UA).
    pub alt_text: String,
}

/// Renders `printout` as PDF/A-3a + PDF/UA-1.
///
/// # Errors
/// [`PrintoutError::NotConforming`] when the document would violate either standard —
/// e.g. a character the font lacks (not a DIN 91379 character) or a signature without
/// alternative text; [`PrintoutError::BadSignature`] for an unreadable PNG.
pub fn render(printout: &Printout) -> Result<Vec<u8>, PrintoutError> {
    let fonts = fonts::Fonts::load()?;
    let image = printout
        .signature
        .as_ref()
        .map(|s| {
            krilla::image::Image::from_png(s.png.clone().into(), false)
                .map_err(PrintoutError::BadSignature)
        })
        .transpose()?;
    let layout = layout::lay_out(printout, &fonts, image.as_ref().map(|i| i.size()));
    pdf::write(printout, &layout, &fonts, image)
}
