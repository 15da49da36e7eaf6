//! The three export formats, one case at a time (the caller streams them):
//!
//! - **CSV** (`text/csv`) for a spreadsheet in German locale: UTF-8 with a byte-order
//!   mark, `;` between cells, CRLF line ends, RFC 4180 quoting (the `csv` crate quotes a
//!   cell holding `;`, `"`, CR or LF) — a comma-separated file without BOM opens in
//!   German Excel as one column of broken characters. A cell that starts with `=`, `+`,
//!   `-`, `@`, a tab or CR gets a leading `'`, so a value typed on a kit can never run
//!   as a spreadsheet formula. Two layouts ([`CsvLayout`]):
//!   - *generic* (any mix of services): fixed metadata columns with machine keys and
//!     the decrypted form data as one JSON column (`form_data`) — a specialist system
//!     imports by stable keys, and forms differ per service and version and nest;
//!   - *labelled* (an export of one service and one form version): metadata columns
//!     with German (or English) headings, then one column per form field under the
//!     catalog's label ([`super::export_columns`] says how nested persons flatten).
//! - **JSON** (`application/json`): one array of case objects (metadata, attachment
//!   list, `data`).
//! - **FIT-Connect** (`application/x-ndjson`): one FIT-Connect-shaped metadata object
//!   per line — `publicServiceType.identifier` `urn:de:fim:leika:leistung:<LeiKa>`,
//!   `additionalReferenceInfo.senderReference` (the case id) and `.applicationDate` (the
//!   visit date), `contentStructure.attachments[]` with `hash {type: sha512, content}`
//!   computed over the decrypted bytes, `purpose`, `mimeType`, `filename` — plus the
//!   decrypted form data as `data` (in FIT-Connect proper that is a separate, encrypted
//!   payload; `contentStructure.data.hash` is the SHA-512 of exactly the `data` JSON as
//!   written on the line). NDJSON rather than a ZIP: one line per case streams with no
//!   archive index to hold, and splits into per-case files with one `split -l 1`.

use serde_json::{json, Value};
use sha2::{Digest as _, Sha512};

use super::export_columns::FormColumns;
use super::i18n::Lang;
use crate::storage::{status_name, CaseRow};

/// How a CSV export lays out its cases.
#[derive(Debug, Clone)]
pub enum CsvLayout {
    /// Machine-keyed metadata and the form as one JSON column.
    Generic,
    /// One service and form version: labelled metadata and one column per form field.
    Labelled {
        /// The planned form columns.
        columns: FormColumns,
        /// The language of headings and values.
        lang: Lang,
    },
}

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV.
    Csv,
    /// A JSON array.
    Json,
    /// FIT-Connect metadata, one JSON object per line.
    FitConnect,
}

impl Format {
    /// Parses the `format` parameter.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "csv" => Some(Self::Csv),
            "json" => Some(Self::Json),
            "fitconnect" => Some(Self::FitConnect),
            _ => None,
        }
    }

    /// The response's media type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Json => "application/json",
            Self::FitConnect => "application/x-ndjson",
        }
    }

    /// The download's file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "json",
            Self::FitConnect => "ndjson",
        }
    }

    /// Whether attachments must be decrypted (to hash them with SHA-512).
    pub fn needs_attachment_hashes(self) -> bool {
        self == Self::FitConnect
    }

    /// What comes before the first case.
    pub fn header(self, layout: &CsvLayout) -> Vec<u8> {
        match self {
            Self::Csv => [UTF8_BOM.as_slice(), &csv_row(&csv_headers(layout))].concat(),
            Self::Json => b"[".to_vec(),
            Self::FitConnect => Vec::new(),
        }
    }

    /// What comes after the last case.
    pub fn footer(self) -> Vec<u8> {
        match self {
            Self::Json => b"]\n".to_vec(),
            Self::Csv | Self::FitConnect => Vec::new(),
        }
    }

    /// One case; `first` tells the JSON array whether a comma is needed.
    pub fn case(self, c: &ExportCase, first: bool, layout: &CsvLayout) -> Vec<u8> {
        match self {
            Self::Csv => csv_row(&match layout {
                CsvLayout::Generic => csv_case(c),
                CsvLayout::Labelled { columns, lang } => labelled_case(c, columns, *lang),
            }),
            Self::Json => {
                let mut out = if first { Vec::new() } else { b",".to_vec() };
                out.push(b'\n');
                out.extend(serde_json::to_vec(&json_case(c)).unwrap_or_default());
                out
            }
            Self::FitConnect => {
                let mut out = serde_json::to_vec(&fit_connect_case(c)).unwrap_or_default();
                out.push(b'\n');
                out
            }
        }
    }
}

/// One attachment of an exported case.
#[derive(Debug, Clone)]
pub struct ExportAttachment {
    /// Its id.
    pub id: String,
    /// `form`, `attachment` or `report`.
    pub purpose: String,
    /// Media type.
    pub media_type: String,
    /// Plaintext size.
    pub size: u64,
    /// SHA-256 of the plaintext (manifest), hex.
    pub sha256: String,
    /// The download's file name.
    pub filename: String,
    /// Whether the file has arrived.
    pub transferred: bool,
    /// SHA-512 of the decrypted bytes, hex (FIT-Connect export only).
    pub sha512: Option<String>,
}

/// One exported case.
#[derive(Debug, Clone)]
pub struct ExportCase {
    /// The case row.
    pub case: CaseRow,
    /// The Vorgangsnummer the citizen's receipt shows.
    pub case_number: String,
    /// The Prüfcode the citizen's receipt shows.
    pub verification_code: String,
    /// The service's name in the page language.
    pub service_name: String,
    /// The record's LeiKa key (`None` when the record no longer verifies).
    pub leika: Option<String>,
    /// The visit date, `YYYY-MM-DD`.
    pub visit_date: Option<String>,
    /// The decrypted form data (`None` when the record no longer verifies).
    pub data: Option<Value>,
    /// The manifest.
    pub attachments: Vec<ExportAttachment>,
}

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 16] = [
    "case_id",
    "service_id",
    "service_name",
    "leika",
    "form_version",
    "kind",
    "status",
    "received_at",
    "visit_date",
    "kit_id",
    "clerk_id",
    "assigned_to",
    "signature_valid",
    "attachments",
    "attachments_transferred",
    "form_data",
];

/// The byte-order mark that tells a spreadsheet the file is UTF-8.
pub const UTF8_BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// The CSV field separator: `;`, the list separator of the German locale (where `,` is
/// the decimal comma).
pub const CSV_DELIMITER: u8 = b';';

/// The first characters that make a spreadsheet read a cell as a formula (or, for tab
/// and CR, that some spreadsheets strip before looking for one).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as written: a leading `'` before a would-be formula (OWASP "CSV injection").
pub fn neutralised(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

fn csv_row(cells: &[String]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(CSV_DELIMITER)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing into a Vec cannot fail; a failure would only leave the row empty.
    let _ = writer.write_record(cells.iter().map(|c| neutralised(c).into_owned()));
    writer.into_inner().unwrap_or_default()
}

/// The labelled layout's metadata headings (German, English), in order.
const LABELLED_META: [(&str, &str); 14] = [
    ("Vorgangsnummer", "Case number"),
    ("Prüfcode", "Verification code"),
    ("Vorgangs-ID", "Case ID"),
    ("Leistung", "Service"),
    ("Formularversion", "Form version"),
    ("Status", "Status"),
    ("Eingegangen", "Received"),
    ("Besuchstag", "Visit date"),
    ("Kit", "Kit"),
    ("Erfasst von", "Captured by"),
    ("Zugewiesen an", "Assigned to"),
    ("Signatur gültig", "Signature valid"),
    ("Anlagen", "Attachments"),
    ("davon übertragen", "of which transferred"),
];

fn csv_headers(layout: &CsvLayout) -> Vec<String> {
    match layout {
        CsvLayout::Generic => CSV_COLUMNS.map(str::to_owned).to_vec(),
        CsvLayout::Labelled { columns, lang } => LABELLED_META
            .iter()
            .map(|(de, en)| lang.pick(de, en).to_owned())
            .chain(columns.headers())
            .collect(),
    }
}

fn labelled_case(c: &ExportCase, columns: &FormColumns, lang: Lang) -> Vec<String> {
    let row = &c.case;
    let visit_date = c.visit_date.clone().unwrap_or_default();
    let visit_date = match lang {
        Lang::De => chrono::NaiveDate::parse_from_str(&visit_date, "%Y-%m-%d")
            .map_or(visit_date, |d| d.format("%d.%m.%Y").to_string()),
        Lang::En => visit_date,
    };
    let transferred = c.attachments.iter().filter(|a| a.transferred).count();
    let mut cells = vec![
        c.case_number.clone(),
        c.verification_code.clone(),
        row.record_id.to_string(),
        c.service_name.clone(),
        row.form_version.to_string(),
        lang.status(row.status).to_owned(),
        super::local_time::show(row.received_at),
        visit_date,
        row.kit_id.to_string(),
        row.clerk_id.clone().unwrap_or_default(),
        row.assigned_to.clone().unwrap_or_default(),
        lang.pick(
            if c.data.is_some() { "ja" } else { "nein" },
            if c.data.is_some() { "yes" } else { "no" },
        )
        .to_owned(),
        c.attachments.len().to_string(),
        transferred.to_string(),
    ];
    match &c.data {
        Some(data) => cells.extend(columns.row(data, lang)),
        // A record that no longer verifies is not opened: its form cells stay empty.
        None => cells.extend(columns.headers().iter().map(|_| String::new())),
    }
    cells
}

fn received(c: &CaseRow) -> String {
    c.received_at
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn kind(c: &CaseRow) -> String {
    crate::storage::kind_name(c.kind)
}

fn csv_case(c: &ExportCase) -> Vec<String> {
    let row = &c.case;
    vec![
        row.record_id.to_string(),
        row.form_id.to_string(),
        c.service_name.clone(),
        c.leika.clone().unwrap_or_default(),
        row.form_version.to_string(),
        kind(row),
        status_name(row.status),
        received(row),
        c.visit_date.clone().unwrap_or_default(),
        row.kit_id.to_string(),
        row.clerk_id.clone().unwrap_or_default(),
        row.assigned_to.clone().unwrap_or_default(),
        c.data.is_some().to_string(),
        c.attachments.len().to_string(),
        c.attachments
            .iter()
            .filter(|a| a.transferred)
            .count()
            .to_string(),
        c.data.as_ref().map(Value::to_string).unwrap_or_default(),
    ]
}

fn json_case(c: &ExportCase) -> Value {
    let row = &c.case;
    json!({
        "caseId": row.record_id.to_string(),
        "serviceId": row.form_id.to_string(),
        "serviceName": c.service_name,
        "leika": c.leika,
        "formVersion": row.form_version,
        "kind": kind(row),
        "references": row.references.map(|r| r.to_string()),
        "status": status_name(row.status),
        "receivedAt": received(row),
        "visitDate": c.visit_date,
        "kitId": row.kit_id.to_string(),
        "clerkId": row.clerk_id,
        "assignedTo": row.assigned_to,
        "signatureValid": c.data.is_some(),
        "attachments": c.attachments.iter().map(|a| json!({
            "attachmentId": a.id,
            "purpose": a.purpose,
            "mimeType": a.media_type,
            "size": a.size,
            "sha256": a.sha256,
            "filename": a.filename,
            "transferred": a.transferred,
        })).collect::<Vec<_>>(),
        "data": c.data,
    })
}

fn fit_connect_case(c: &ExportCase) -> Value {
    let row = &c.case;
    let data_bytes = c
        .data
        .as_ref()
        .map(|d| serde_json::to_vec(d).unwrap_or_default())
        .unwrap_or_default();
    let attachments: Vec<Value> = c
        .attachments
        .iter()
        .filter_map(|a| {
            let sha512 = a.sha512.as_ref()?;
            Some(json!({
                "attachmentId": a.id,
                "hash": {"type": "sha512", "content": sha512},
                "purpose": a.purpose,
                "mimeType": a.media_type,
                "filename": a.filename,
            }))
        })
        .collect();
    let pending: Vec<&str> = c
        .attachments
        .iter()
        .filter(|a| a.sha512.is_none())
        .map(|a| a.id.as_str())
        .collect();
    json!({
        "$schema": "https://schema.fitko.de/fit-connect/metadata/1.2.0/metadata.schema.json",
        "publicServiceType": {
            "identifier": format!("urn:de:fim:leika:leistung:{}", c.leika.as_deref().unwrap_or_default()),
            "name": c.service_name,
        },
        "additionalReferenceInfo": {
            "senderReference": row.record_id.to_string(),
            "applicationDate": c.visit_date,
        },
        "contentStructure": {
            "data": {
                "hash": {"type": "sha512", "content": hex::encode(Sha512::digest(&data_bytes))},
                "submissionSchema": {
                    "schemaUri": format!("urn:fieldkit:form:{}:v{}", row.form_id, row.form_version),
                    "mimeType": "application/json",
                },
            },
            "attachments": attachments,
        },
        "x-fieldkit": {
            "status": status_name(row.status),
            "receivedAt": received(row),
            "kitId": row.kit_id.to_string(),
            "clerkId": row.clerk_id,
            "signatureValid": c.data.is_some(),
            "attachmentsNotTransferred": pending,
        },
        "data": c.data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn would_be_formulas_get_a_leading_apostrophe_and_nothing_else_changes() {
        for (cell, written) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+49 30 1234", "'+49 30 1234"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("Müller; Jürgen", "Müller; Jürgen"),
            ("", ""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(neutralised(cell), written, "{cell:?}");
        }
    }

    #[test]
    fn rows_end_in_crlf_and_quote_separators_quotes_and_line_breaks() {
        let row = csv_row(&[
            "a;b".to_owned(),
            "say \"hi\"".to_owned(),
            "two\nlines".to_owned(),
            "plain".to_owned(),
        ]);
        assert_eq!(
            String::from_utf8(row).expect("utf-8"),
            "\"a;b\";\"say \"\"hi\"\"\";\"two\nlines\";plain\r\n"
        );
    }
}
