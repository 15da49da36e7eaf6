//! Exports of decrypted cases, for the reviewer's own authority only:
//! `GET /office/cases/export?format=…&<inbox filter>` exports every case of an inbox
//! filter, `POST /office/cases/export` (CSRF; fields `format` and `case`, repeated)
//! the selected ones. Formats: [`super::export_format`]. A filtered export may name a
//! form version (`version=N`, only together with `service`): it then holds only the
//! cases captured with that version, and its CSV has one column per form field
//! ([`super::export_columns`]); any other export's CSV has the generic columns.
//!
//! Everything the request says is validated before the first byte is sent, so bad input
//! is a 400 page, never a partial file. The body is then produced by a task that walks
//! the filter in keyset pages (the inbox's own query, without counts) or the selection,
//! opens each case — logging it in the decryption log with purpose `export` first —
//! and writes one case at a time into a bounded channel ([`super::stream`]): memory
//! stays constant however many cases match. A failure midway (database, a file that
//! does not match its manifest) cuts the transfer instead of ending it cleanly.

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, Uri};
use axum::response::Response;
use axum::Extension;
use fieldkit_catalog::Catalog;
use sha2::{Digest as _, Sha512};
use sync_protocol::attachment::AttachmentSecret;
use sync_protocol::ids::RecordId;

use super::attachment::{filename, purpose_name, Decrypting};
use super::error::OfficeError;
use super::export_columns::FormColumns;
use super::export_format::{CsvLayout, ExportAttachment, ExportCase, Format};
use super::i18n::Lang;
use super::inbox::{build_query, parse_params};
use super::opening::{own_case, query_pairs, verified_record, Opener, Purpose};
use super::stream::{self, Sink};
use super::Ctx;
use crate::state::AppState;
use crate::storage::{CaseDetail, InboxQuery, SessionRow};

/// The most cases one selection may name (a page of the inbox is 50).
pub const MAX_SELECTED: usize = 500;

/// Which cases an export covers.
enum Source {
    /// Every case of an inbox filter, page by page.
    Filter(InboxQuery),
    /// These cases (already checked to be the authority's), in this order.
    Selected(Vec<RecordId>),
}

fn format_of(value: Option<&str>, lang: Lang) -> Result<Format, OfficeError> {
    let value = value.unwrap_or_default();
    Format::parse(value).ok_or_else(|| {
        OfficeError::BadRequest(vec![if value.is_empty() {
            lang.pick(
                "Bitte wählen Sie ein Exportformat (csv, json oder fitconnect).",
                "Please choose an export format (csv, json or fitconnect).",
            )
            .to_owned()
        } else {
            lang.pick(
                "format: unbekanntes Exportformat (csv, json oder fitconnect)",
                "format: unknown export format (csv, json or fitconnect)",
            )
            .to_owned()
        }])
    })
}

async fn catalog(app: &AppState) -> Result<Option<Arc<Catalog>>, OfficeError> {
    app.catalog
        .current(app.store.as_ref(), &app.server_verifying_keys())
        .await
        .map_err(|e| OfficeError::Internal(e.to_string()))
}

/// The column choices of a filtered CSV export: with a service filter, one labelled
/// layout per form version of the service; without one, none (the generic columns).
pub(super) fn export_versions(
    catalog: Option<&Catalog>,
    service: &str,
    lang: Lang,
) -> Vec<super::views::Opt> {
    let Some(service) = catalog.and_then(|c| c.service(service).ok()) else {
        return Vec::new();
    };
    let w = super::casework_texts::texts(lang);
    let mut options = vec![super::views::Opt {
        value: String::new(),
        label: w.export_columns_json.to_owned(),
        selected: true,
    }];
    options.extend(service.forms.iter().rev().map(|f| super::views::Opt {
        value: f.version.to_string(),
        label: format!("{} {}", w.export_columns_version, f.version),
        selected: false,
    }));
    options
}

/// `GET /office/cases/export`.
pub async fn filtered(
    State(app): State<AppState>,
    uri: Uri,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    match try_filtered(&app, &uri, &ctx).await {
        Ok(response) => response,
        Err(e) => ctx.error(e),
    }
}

async fn try_filtered(app: &AppState, uri: &Uri, ctx: &Ctx) -> Result<Response, OfficeError> {
    let session = ctx.session()?;
    let lang = ctx.lang;
    let pairs = query_pairs(uri, lang)?;
    let formats: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "format")
        .map(|(_, v)| v.as_str())
        .collect();
    if formats.len() > 1 {
        return Err(OfficeError::BadRequest(vec![format!(
            "format: {}",
            lang.pick("mehrfach angegeben", "given more than once")
        )]));
    }
    let versions: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "version")
        .map(|(_, v)| v.trim())
        .collect();
    let params = parse_params(uri.query(), lang, &["format", "version"])?;
    let format = format_of(formats.first().copied(), lang)?;
    let catalog = catalog(app).await?;
    let mut query = build_query(&params, ctx, catalog.as_deref(), session)?;
    query.with_counts = false;
    let (only_version, layout) = match versions.as_slice() {
        [] | [""] => (None, CsvLayout::Generic),
        [one] => {
            let (version, columns) =
                form_version(one, query.filter.form_id.as_ref(), catalog.as_deref(), lang)?;
            (Some(version), CsvLayout::Labelled { columns, lang })
        }
        _ => {
            return Err(OfficeError::BadRequest(vec![format!(
                "version: {}",
                lang.pick("mehrfach angegeben", "given more than once")
            )]))
        }
    };
    Ok(start(
        app,
        session,
        Plan {
            lang,
            catalog,
            format,
            layout,
            only_version,
        },
        Source::Filter(query),
    ))
}

/// The form version an export names and its planned columns; 400 when the version
/// comes without a service or the catalog has no such version of it.
fn form_version(
    value: &str,
    service: Option<&sync_protocol::ids::FormId>,
    catalog: Option<&Catalog>,
    lang: Lang,
) -> Result<(u32, FormColumns), OfficeError> {
    let bad = |de: &str, en: &str| {
        OfficeError::BadRequest(vec![format!("version: {}", lang.pick(de, en))])
    };
    let Some(service) = service else {
        return Err(bad(
            "Eine Formularversion gibt es nur zusammen mit einer Leistung (service).",
            "A form version needs a service (service).",
        ));
    };
    let version: u32 = value.parse().map_err(|_| {
        bad(
            "Die Formularversion ist eine Zahl, z. B. 1.",
            "The form version is a number, e.g. 1.",
        )
    })?;
    let form = catalog
        .and_then(|c| c.service(service.as_str()).ok())
        .and_then(|s| s.form(version))
        .ok_or_else(|| {
            bad(
                "Diese Formularversion gibt es für die Leistung nicht.",
                "The service has no such form version.",
            )
        })?;
    Ok((version, FormColumns::plan(&form.ui, &form.schema, lang)))
}

/// `POST /office/cases/export`.
pub async fn selected(State(app): State<AppState>, Extension(ctx): Extension<Ctx>) -> Response {
    match try_selected(&app, &ctx).await {
        Ok(response) => response,
        Err(e) => ctx.error(e),
    }
}

async fn try_selected(app: &AppState, ctx: &Ctx) -> Result<Response, OfficeError> {
    let session = ctx.session()?;
    let lang = ctx.lang;
    let format = format_of(ctx.field("format")?, lang)?;
    let mut ids = Vec::new();
    let mut seen = HashSet::new();
    for (k, v) in &ctx.form {
        match k.as_str() {
            "case" => {
                if seen.insert(v.clone()) {
                    ids.push(v.clone());
                }
            }
            "csrf" | "format" => {}
            other => {
                let other: String = other.chars().take(40).collect();
                return Err(OfficeError::BadRequest(vec![format!(
                    "{other}: {}",
                    lang.pick("unbekanntes Feld", "unknown field")
                )]));
            }
        }
    }
    if ids.is_empty() {
        return Err(OfficeError::BadRequest(vec![lang
            .pick(
                "Bitte wählen Sie mindestens einen Vorgang aus.",
                "Please select at least one case.",
            )
            .to_owned()]));
    }
    if ids.len() > MAX_SELECTED {
        return Err(OfficeError::BadRequest(vec![format!(
            "{} {MAX_SELECTED}",
            lang.pick(
                "Höchstens so viele Vorgänge auf einmal:",
                "At most this many cases at once:"
            )
        )]));
    }
    let mut checked = Vec::with_capacity(ids.len());
    for id in &ids {
        // Unknown, malformed and foreign ids are all the same 404: nothing is exported.
        checked.push(own_case(app, session, id).await?.case.record_id);
    }
    let catalog = catalog(app).await?;
    Ok(start(
        app,
        session,
        Plan {
            lang,
            catalog,
            format,
            layout: CsvLayout::Generic,
            only_version: None,
        },
        Source::Selected(checked),
    ))
}

/// What an export writes, decided before the first byte.
struct Plan {
    lang: Lang,
    catalog: Option<Arc<Catalog>>,
    format: Format,
    layout: CsvLayout,
    /// Only cases captured with this form version (a filter on top of the inbox's).
    only_version: Option<u32>,
}

/// Sends the headers and spawns the producer.
fn start(app: &AppState, session: &SessionRow, plan: Plan, source: Source) -> Response {
    let format = plan.format;
    let (sink, body) = stream::channel();
    let (app, session) = (app.clone(), session.clone());
    tokio::spawn(async move {
        let mut job = Job {
            app: &app,
            session: &session,
            lang: plan.lang,
            catalog: plan.catalog.as_deref(),
            format,
            layout: &plan.layout,
            only_version: plan.only_version,
            sink: &sink,
            opener: Opener::new(&app, &session),
            first: true,
        };
        if let Err(why) = job.run(source).await {
            sink.fail(why).await;
        }
    });
    let name = format!(
        "attachment; filename=\"fieldkit-export-{}.{}\"",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
        format.extension()
    );
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    tracing::info!(format = format.extension(), "export started");
    response
}

/// One running export.
struct Job<'a> {
    app: &'a AppState,
    session: &'a SessionRow,
    lang: Lang,
    catalog: Option<&'a Catalog>,
    format: Format,
    layout: &'a CsvLayout,
    only_version: Option<u32>,
    sink: &'a Sink,
    opener: Opener<'a>,
    first: bool,
}

/// Why an export stopped (for the log; never case data). `"gone"`: the client left.
type Why = &'static str;

impl Job<'_> {
    async fn send(&self, bytes: Vec<u8>) -> Result<(), Why> {
        self.sink.send(bytes).await.map_err(|_| "gone")
    }

    async fn run(&mut self, source: Source) -> Result<(), Why> {
        self.send(self.format.header(self.layout)).await?;
        match source {
            Source::Filter(mut query) => loop {
                let page = self
                    .app
                    .store
                    .inbox_page(&query)
                    .await
                    .map_err(|_| "inbox page query failed")?;
                for case in &page.cases {
                    self.case(&case.record_id).await?;
                }
                match page.next {
                    Some(next) => query.after = Some(next),
                    None => break,
                }
            },
            Source::Selected(ids) => {
                for id in &ids {
                    self.case(id).await?;
                }
            }
        }
        self.send(self.format.footer()).await
    }

    async fn case(&mut self, id: &RecordId) -> Result<(), Why> {
        let detail: CaseDetail = self
            .app
            .store
            .case_detail(id)
            .await
            .map_err(|_| "case query failed")?
            .ok_or("case vanished")?;
        if detail.case.authority_id != self.session.user.authority_id {
            return Err("case of another authority");
        }
        if self
            .only_version
            .is_some_and(|v| v != detail.case.form_version)
        {
            // Not part of this export: not opened, not logged.
            return Ok(());
        }
        let service = self
            .catalog
            .and_then(|c| c.service(detail.case.form_id.as_str()).ok());
        let service_name = service.map_or_else(
            || detail.case.form_id.to_string(),
            |s| self.lang.pick(&s.name.de, &s.name.en).to_owned(),
        );
        let mut export = ExportCase {
            case: detail.case.clone(),
            case_number: sync_protocol::codes::case_number(&detail.case.kit_id, detail.seq),
            verification_code: sync_protocol::codes::verification_code(&detail.hash),
            service_name,
            leika: None,
            visit_date: None,
            data: None,
            attachments: Vec::new(),
        };
        if let Some(record) = verified_record(&detail) {
            let r = &record.record;
            let case = self
                .opener
                .open(&record, Purpose::Export)
                .await
                .map_err(|_| "case does not open")?;
            let stored = self
                .app
                .store
                .case_attachments(&r.record_id)
                .await
                .map_err(|_| "attachment query failed")?;
            for (i, a) in r.attachments.iter().enumerate() {
                let transferred = stored.iter().any(|s| {
                    s.attachment_id == a.id
                        && s.complete
                        && s.ciphertext_sha256 == a.ciphertext_sha256
                });
                let mut sha512 = None;
                if transferred && self.format.needs_attachment_hashes() {
                    let key = case
                        .attachment_keys
                        .iter()
                        .find(|k| k.attachment_id == a.id)
                        .ok_or("no key for an attachment")?;
                    let secret =
                        AttachmentSecret::from_wire(key).map_err(|_| "bad attachment key")?;
                    sha512 = Some(self.sha512(&secret, a).await?);
                }
                export.attachments.push(ExportAttachment {
                    id: a.id.to_string(),
                    purpose: purpose_name(a.purpose),
                    media_type: a.media_type.to_string(),
                    size: a.size,
                    sha256: a.sha256.to_hex(),
                    // The clerk's file name (sanitized again) where the kit sealed one.
                    filename: case
                        .label_of(a.id)
                        .and_then(|l| l.file_name)
                        .unwrap_or_else(|| filename(r, i, a)),
                    transferred,
                    sha512,
                });
            }
            export.leika = Some(r.leika.to_string());
            export.visit_date = Some(r.visit_date.to_string());
            export.data = Some(case.form_data.clone());
        }
        let bytes = self.format.case(&export, self.first, self.layout);
        self.first = false;
        self.send(bytes).await
    }

    /// SHA-512 over the decrypted bytes, streamed (and checked against the manifest).
    async fn sha512(
        &self,
        secret: &AttachmentSecret,
        entry: &sync_protocol::record::AttachmentEntry,
    ) -> Result<String, Why> {
        let mut decrypting = Decrypting::open(self.app, secret, entry);
        let mut hasher = Sha512::new();
        while let Some(chunk) = decrypting.next().await.map_err(|p| p.as_str())? {
            hasher.update(&chunk);
        }
        Ok(hex::encode(hasher.finalize()))
    }
}
