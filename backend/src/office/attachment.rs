//! Attachments of a case: the list on the case page and
//! `GET /office/cases/{record_id}/attachments/{attachment_id}`, the decrypted file as a
//! stream (`?inline=1` for a PDF, PNG or JPEG shown in the office's sandboxed view page,
//! [`super::attachment_view`], instead of downloading it).
//!
//! The media type comes from the kit's manifest, so it is a claim: a file is served with
//! it only if it is on [`SERVED_AS_IS`]; anything else (`text/html`, `image/svg+xml`,
//! …) is served as `application/octet-stream`. Every attachment answer also carries
//! `Content-Security-Policy: sandbox`, `X-Content-Type-Options: nosniff` and (except an
//! inline view) `Content-Disposition: attachment`, so no file a kit sent can run as a
//! page of the back office's origin.
//!
//! Order of checks: the case belongs to the reviewer's authority (else 404, as for an
//! unknown id); its record still verifies; the attachment is in the signed manifest and
//! its upload is complete (else "not yet transferred"); the ciphertext is in the
//! attachment store with the manifest's size (a store that does not answer: 503). Only
//! then the decryption is logged (purpose `attachment`), the case opened for the
//! attachment's key, and the ciphertext read in ranges of [`crate::blobs::WINDOW`] and
//! decrypted chunk by chunk into the response.
//!
//! Integrity of a stream. The upload was accepted only when the SHA-256 of the whole
//! ciphertext matched the signed manifest, and the file is stored under that hash.
//! While streaming, every 64 KiB chunk is authenticated by STREAM's AEAD tag under the
//! per-file key from the sealed (signed) case and the attachment id, so no byte is
//! released unless it is exactly what the kit encrypted for this attachment; truncation
//! and reordering fail too. What the tags cannot show is whether the kit's manifest
//! hash of the *plaintext* matches what it encrypted, so [`Decrypting`] holds back the
//! final chunk until the plaintext's size and SHA-256 (and the ciphertext's SHA-256)
//! equal the manifest's; on a mismatch the body ends with an error, and with the
//! `Content-Length` set from the manifest the client sees a broken transfer, never a
//! complete wrong file.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Uri};
use axum::response::Response;
use axum::Extension;
use sync_protocol::attachment::{AttachmentDecryptor, AttachmentSecret, CIPHERTEXT_CHUNK_SIZE};
use sync_protocol::ids::AttachmentId;
use sync_protocol::record::{AttachmentEntry, Purpose as FilePurpose, Record};
use sync_protocol::seal::{AttachmentLabel, CasePayload};

use super::error::OfficeError;
use super::i18n::Lang;
use super::opening::{own_case, switch_requested, verified_or_refused, Opener, Purpose};
use super::stream::{self, Sink};
use super::views::AttachmentView;
use super::Ctx;
use crate::blobs::BlobReader;
use crate::state::AppState;
use crate::storage::StoredAttachment;

/// Media types shown inline (`?inline=1`, framed by the view page
/// [`super::attachment_view`]): documents and images a browser renders without running
/// anything of the file's. No SVG (it can carry scripts), no HTML, nothing else.
pub(super) const INLINE: [&str; 3] = ["application/pdf", "image/png", "image/jpeg"];

/// Media types an attachment is served with as the manifest says: documents and images
/// no browser runs as script. Everything else is `application/octet-stream`.
pub const SERVED_AS_IS: [&str; 7] = [
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/tiff",
    "text/plain",
];

/// The `Content-Type` an attachment of media type `claimed` is served with.
pub fn served_type(claimed: &str) -> &'static str {
    SERVED_AS_IS
        .into_iter()
        .find(|t| *t == claimed)
        .unwrap_or("application/octet-stream")
}

/// The policy of every attachment answer: no script, no plugin, no form, an opaque
/// origin — even if a browser were to render the file.
pub const ATTACHMENT_CSP: &str = "sandbox; default-src 'none'; img-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The same for an inline answer, which the office's own view page may frame.
pub const INLINE_CSP: &str = "sandbox; default-src 'none'; img-src 'self'; \
     frame-ancestors 'self'; base-uri 'none'; form-action 'none'";

/// What an attachment is, in the page language: the catalog's label of the attachment
/// kind the sealed case names (kits since PROTOCOL.md §5.3's `attachments`); without
/// one (older kits, or a page that opens no case), the label of the service's
/// attachment that fits its purpose and media type, if exactly one fits; else the
/// purpose in words.
pub(super) fn label(
    service: Option<&fieldkit_catalog::Service>,
    entry: &AttachmentEntry,
    sealed: Option<&AttachmentLabel>,
    lang: Lang,
) -> String {
    let named = sealed.and_then(|l| service?.attachments.iter().find(|spec| spec.id == l.kind));
    if let Some(spec) = named {
        return lang.pick(&spec.label.de, &spec.label.en).to_owned();
    }
    let mut fitting = service
        .map(|s| s.attachments.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|spec| {
            spec.purpose == entry.purpose && spec.media_types.contains(&entry.media_type)
        });
    match (fitting.next(), fitting.next()) {
        (Some(spec), None) => lang.pick(&spec.label.de, &spec.label.en).to_owned(),
        _ => match entry.purpose {
            FilePurpose::Form => lang.pick("Unterschriebener Antrag", "Signed application"),
            FilePurpose::Attachment => lang.pick("Anlage", "Attachment"),
            FilePurpose::Report => lang.pick("Bericht", "Report"),
        }
        .to_owned(),
    }
}

/// The FIT-Connect name of a purpose (`form`, `attachment`, `report`).
pub(super) fn purpose_name(p: FilePurpose) -> String {
    serde_json::to_value(p)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A file name safe in any header and file system: ASCII only, from the case id, the
/// position and the media type. Downloads are offered under it; the clerk's file name
/// (sealed, shown on the case page and in exports) may hold any character.
pub(super) fn filename(record: &Record, position: usize, entry: &AttachmentEntry) -> String {
    let ext = match entry.media_type.as_str() {
        "application/pdf" => "pdf",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/tiff" => "tif",
        "application/xml" | "text/xml" => "xml",
        "application/json" => "json",
        "text/plain" => "txt",
        _ => "bin",
    };
    format!(
        "{}-{}-{}.{ext}",
        record.record_id,
        position + 1,
        purpose_name(entry.purpose)
    )
}

/// The case page's attachment rows: the catalog's label, a download link for each
/// transferred file and a view link for PDFs and images, "not yet transferred" for the
/// rest.
pub(super) fn attachment_views(
    lang: Lang,
    service: Option<&fieldkit_catalog::Service>,
    record: &Record,
    case: &CasePayload,
    stored: &[StoredAttachment],
) -> Vec<AttachmentView> {
    record
        .attachments
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let ready = stored.iter().any(|s| {
                s.attachment_id == a.id && s.complete && s.ciphertext_sha256 == a.ciphertext_sha256
            });
            let link = format!("/office/cases/{}/attachments/{}", record.record_id, a.id);
            // Sanitized again here: the page trusts no kit with what it shows.
            let sealed = case.label_of(a.id);
            AttachmentView {
                label: label(service, a, sealed.as_ref(), lang),
                file_name: sealed.and_then(|l| l.file_name),
                purpose: purpose_name(a.purpose),
                media_type: a.media_type.to_string(),
                size: a.size,
                filename: filename(record, i, a),
                view: (ready && INLINE.contains(&a.media_type.as_str()))
                    .then(|| format!("{link}/view")),
                link: ready.then_some(link),
                state: if ready {
                    String::new()
                } else {
                    lang.pick("noch nicht übertragen", "not yet transferred")
                        .to_owned()
                },
            }
        })
        .collect()
}

/// Why a decrypting stream stopped (never case data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StreamProblem {
    /// Reading the ciphertext from the attachment store failed.
    Io,
    /// A chunk did not authenticate, or the file was cut.
    Authentication,
    /// Size or hashes differ from the signed manifest.
    Mismatch,
}

impl StreamProblem {
    /// For logs.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Io => "attachment unreadable from the attachment store",
            Self::Authentication => "attachment chunk does not authenticate",
            Self::Mismatch => "attachment differs from its manifest",
        }
    }
}

/// A stored ciphertext being decrypted chunk by chunk; the final chunk only after the
/// whole file matched the manifest (see the module documentation). It holds one read
/// window and hands the decryptor one STREAM chunk of it at a time, so the response's
/// channel carries chunks of 64 KiB whatever the window.
pub(super) struct Decrypting {
    reader: BlobReader,
    window: Bytes,
    decryptor: Option<AttachmentDecryptor>,
    entry: AttachmentEntry,
}

impl Decrypting {
    /// Reads the stored ciphertext of `entry` from `app`'s attachment store.
    pub(super) fn open(app: &AppState, secret: &AttachmentSecret, entry: &AttachmentEntry) -> Self {
        Self {
            reader: app
                .blobs
                .reader(&entry.ciphertext_sha256, entry.ciphertext_size),
            window: Bytes::new(),
            decryptor: Some(AttachmentDecryptor::new(secret, entry.id)),
            entry: entry.clone(),
        }
    }

    /// The next verified plaintext, `None` at the end.
    pub(super) async fn next(&mut self) -> Result<Option<Bytes>, StreamProblem> {
        loop {
            if self.decryptor.is_none() {
                return Ok(None);
            }
            if self.window.is_empty() {
                match self.reader.next().await {
                    Ok(Some(window)) => self.window = window,
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "reading an attachment failed");
                        return Err(StreamProblem::Io);
                    }
                }
            }
            let Some(decryptor) = self.decryptor.as_mut() else {
                return Ok(None);
            };
            if !self.window.is_empty() {
                let chunk = self
                    .window
                    .split_to(CIPHERTEXT_CHUNK_SIZE.min(self.window.len()));
                let plain = decryptor
                    .update(&chunk)
                    .map_err(|_| StreamProblem::Authentication)?;
                if plain.is_empty() {
                    continue;
                }
                return Ok(Some(Bytes::from(plain)));
            }
            let decryptor = self.decryptor.take().ok_or(StreamProblem::Io)?;
            let (last, digests) = decryptor
                .finish()
                .map_err(|_| StreamProblem::Authentication)?;
            let e = &self.entry;
            if digests.size != e.size
                || digests.sha256 != e.sha256
                || digests.ciphertext_sha256 != e.ciphertext_sha256
            {
                return Err(StreamProblem::Mismatch);
            }
            return Ok(Some(Bytes::from(last)));
        }
    }
}

/// The parts of an attachment that are ready to be decrypted: the manifest entry and its
/// position; 404s for unknown ids and unfinished uploads.
pub(super) async fn ready_file(
    app: &AppState,
    record: &Record,
    attachment_id: &AttachmentId,
    lang: Lang,
) -> Result<(usize, AttachmentEntry), OfficeError> {
    let (position, entry) = record
        .attachments
        .iter()
        .enumerate()
        .find(|(_, a)| a.id == *attachment_id)
        .ok_or(OfficeError::NotFound)?;
    let stored = app.store.case_attachments(&record.record_id).await?;
    let ready = stored.iter().any(|s| {
        s.attachment_id == entry.id && s.complete && s.ciphertext_sha256 == entry.ciphertext_sha256
    });
    if !ready {
        return Err(OfficeError::NotAvailable(vec![lang
            .pick(
                "Diese Anlage wurde noch nicht übertragen.",
                "This attachment has not been transferred yet.",
            )
            .to_owned()]));
    }
    Ok((position, entry.clone()))
}

/// `GET /office/cases/{record_id}/attachments/{attachment_id}`.
pub async fn download(
    State(app): State<AppState>,
    Path((record_id, attachment_id)): Path<(String, String)>,
    uri: Uri,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    match try_download(&app, &record_id, &attachment_id, &uri, &ctx).await {
        Ok(response) => response,
        Err(e) => ctx.error(e),
    }
}

async fn try_download(
    app: &AppState,
    record_id: &str,
    attachment_id: &str,
    uri: &Uri,
    ctx: &Ctx,
) -> Result<Response, OfficeError> {
    let session = ctx.session()?;
    let lang = ctx.lang;
    let detail = own_case(app, session, record_id).await?;
    let attachment_id: AttachmentId = attachment_id.parse().map_err(|_| OfficeError::NotFound)?;
    let inline = switch_requested(uri, "inline", lang)?;
    let record = verified_or_refused(&detail, lang)?;
    let (position, entry) = ready_file(app, &record.record, &attachment_id, lang).await?;
    if inline && !INLINE.contains(&entry.media_type.as_str()) {
        return Err(OfficeError::BadRequest(vec![lang
            .pick(
                "Nur PDF, PNG und JPEG werden in der Seite angezeigt; bitte herunterladen.",
                "Only PDF, PNG and JPEG are shown in the page; please download it.",
            )
            .to_owned()]));
    }
    // The ciphertext must be there before anything is decrypted or logged.
    match app.blobs.stored_size(&entry.ciphertext_sha256).await {
        Ok(Some(size)) if size == entry.ciphertext_size => {}
        Ok(found) => {
            return Err(OfficeError::Internal(format!(
                "attachment {} of {}: stored size {found:?}, manifest {}",
                entry.id, record.record.record_id, entry.ciphertext_size
            )))
        }
        Err(e) => return Err(OfficeError::StorageUnavailable(e.to_string())),
    }
    let case = Opener::new(app, session)
        .open(&record, Purpose::Attachment)
        .await?;
    let secret = case
        .attachment_keys
        .iter()
        .find(|k| k.attachment_id == entry.id)
        .ok_or_else(|| OfficeError::Internal("the case has no key for the attachment".into()))
        .and_then(|k| {
            AttachmentSecret::from_wire(k).map_err(|e| OfficeError::Internal(e.to_string()))
        })?;
    drop(case);
    let mut decrypting = Decrypting::open(app, &secret, &entry);
    let (sink, body) = stream::channel();
    tokio::spawn(async move { pump(&mut decrypting, &sink).await });
    let disposition = format!(
        "{}; filename=\"{}\"",
        if inline { "inline" } else { "attachment" },
        filename(&record.record, position, &entry)
    );
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_TYPE,
            served_type(entry.media_type.as_str()).to_owned(),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            if inline { INLINE_CSP } else { ATTACHMENT_CSP }.to_owned(),
        ),
        // The office's view page frames an inline answer; nothing else may.
        (
            header::X_FRAME_OPTIONS,
            if inline { "SAMEORIGIN" } else { "DENY" }.to_owned(),
        ),
        (header::CONTENT_LENGTH, entry.size.to_string()),
        (header::CONTENT_DISPOSITION, disposition),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        (header::CACHE_CONTROL, "no-store".to_owned()),
    ] {
        let value = HeaderValue::from_str(&value)
            .map_err(|_| OfficeError::Internal("attachment header".into()))?;
        headers.insert(name, value);
    }
    tracing::info!(record_id = %record.record.record_id, attachment_id = %entry.id, "attachment decrypted for a reviewer");
    Ok(response)
}

async fn pump(decrypting: &mut Decrypting, sink: &Sink) {
    loop {
        match decrypting.next().await {
            Ok(Some(bytes)) => {
                if sink.send(bytes).await.is_err() {
                    return;
                }
            }
            Ok(None) => return,
            Err(problem) => {
                sink.fail(problem.as_str()).await;
                return;
            }
        }
    }
}
