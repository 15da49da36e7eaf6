//! The three export formats, one case at a time (the caller streams them):
//!
//! - **CSV** (`text/csv`, UTF-8 with a byte-order mark, `;`-separated, RFC 4180 quoting
//!   via the `csv` crate — what a spreadsheet in German locale opens as columns with
//!   its umlauts intact; a comma-separated file without BOM opened as one column of
//!   broken characters): one row per case with a fixed set of metadata columns and the
//!   decrypted form data as one JSON column (`form_data`). A specialist system imports by stable machine keys; the forms differ
//!   per service and per version and nest (an Anmeldung lists every person moving), so
//!   flattened, label-headed columns would change shape from export to export and lose
//!   types. Headers are machine keys; every metadata value is generated or validated by
//!   the backend (ids, dates, statuses) and the JSON column starts with `{`, so no cell
//!   can start a spreadsheet formula.
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

use crate::storage::{status_name, CaseRow};

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
    pub fn header(self) -> Vec<u8> {
        match self {
            Self::Csv => [
                UTF8_BOM.as_slice(),
                &csv_row(&CSV_COLUMNS.map(str::to_owned)),
            ]
            .concat(),
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
    pub fn case(self, c: &ExportCase, first: bool) -> Vec<u8> {
        match self {
            Self::Csv => csv_case(c),
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

fn csv_row(cells: &[String]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(CSV_DELIMITER)
        .from_writer(Vec::new());
    // Writing into a Vec cannot fail; a failure would only leave the row empty.
    let _ = writer.write_record(cells);
    writer.into_inner().unwrap_or_default()
}

fn received(c: &CaseRow) -> String {
    c.received_at
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn kind(c: &CaseRow) -> String {
    crate::storage::kind_name(c.kind)
}

fn csv_case(c: &ExportCase) -> Vec<u8> {
    let row = &c.case;
    csv_row(&[
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
    ])
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
