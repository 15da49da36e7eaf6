//! `GET /office/cases/{record_id}/attachments/{attachment_id}/view`: a PDF, PNG or JPEG
//! attachment shown in the office instead of saved into the Downloads folder.
//!
//! The page itself holds no decrypted data: it frames the attachment's inline answer
//! (`…?inline=1`, [`super::attachment`]), which is decrypted — and logged in the
//! decryption log with purpose `attachment`, exactly like a download — when the browser
//! loads it. That answer is sandboxed (`Content-Security-Policy: sandbox`, an opaque
//! origin, no script), `nosniff`, served with its type only for PDF/PNG/JPEG, and may
//! be framed only by this origin; images sit in an `<iframe sandbox>`, a PDF in an
//! `<object>` (browsers refuse their PDF viewer inside a sandboxed iframe) whose
//! fallback is the download link. Every other type is download-only (400 here).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Extension;
use sync_protocol::ids::AttachmentId;

use super::attachment::{filename, label, ready_file, INLINE};
use super::error::OfficeError;
use super::opening::{own_case, verified_or_refused};
use super::views::{html, Layout};
use super::Ctx;
use crate::state::AppState;

/// The policy of the view page: the office's own policy plus its own frames.
const VIEW_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     frame-src 'self'; object-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// The view page.
#[derive(Template)]
#[template(path = "attachment_view.html")]
pub struct AttachmentViewPage {
    /// The frame.
    pub layout: Layout,
    /// Case-work texts.
    pub w: &'static super::casework_texts::CaseworkTexts,
    /// The catalog's label of the file.
    pub label: String,
    /// The file name a download gets.
    pub filename: String,
    /// The Vorgangsnummer.
    pub case_number: String,
    /// The case page.
    pub case_link: String,
    /// The download.
    pub download: String,
    /// The framed inline answer.
    pub inline: String,
    /// Whether it is a PDF (an `<object>`) rather than an image (an `<iframe>`).
    pub pdf: bool,
}

/// `GET /office/cases/{record_id}/attachments/{attachment_id}/view`.
pub async fn view(
    State(app): State<AppState>,
    Path((record_id, attachment_id)): Path<(String, String)>,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    match try_view(&app, &record_id, &attachment_id, &ctx).await {
        Ok(response) => response,
        Err(e) => ctx.error(e),
    }
}

async fn try_view(
    app: &AppState,
    record_id: &str,
    attachment_id: &str,
    ctx: &Ctx,
) -> Result<Response, OfficeError> {
    let session = ctx.session()?;
    let lang = ctx.lang;
    let w = super::casework_texts::texts(lang);
    let detail = own_case(app, session, record_id).await?;
    let attachment_id: AttachmentId = attachment_id.parse().map_err(|_| OfficeError::NotFound)?;
    let record = verified_or_refused(&detail, lang)?;
    let (position, entry) = ready_file(app, &record.record, &attachment_id, lang).await?;
    let media_type = entry.media_type.as_str();
    if !INLINE.contains(&media_type) {
        return Err(OfficeError::BadRequest(vec![lang
            .pick(
                "Nur PDF, PNG und JPEG werden in der Seite angezeigt; bitte herunterladen.",
                "Only PDF, PNG and JPEG are shown in the page; please download it.",
            )
            .to_owned()]));
    }
    let catalog = app
        .catalog
        .current(app.store.as_ref(), &app.server_verifying_keys())
        .await
        .map_err(|e| OfficeError::Internal(e.to_string()))?;
    let service = catalog
        .as_deref()
        .and_then(|c| c.service(detail.case.form_id.as_str()).ok());
    let case_link = format!("/office/cases/{}", detail.case.record_id);
    let download = format!("{case_link}/attachments/{}", entry.id);
    let page = AttachmentViewPage {
        layout: Layout::new(lang, Some(session)),
        w,
        // This page opens no case, so only the catalog's fitting entry names the file.
        label: label(service, &entry, None, lang),
        filename: filename(&record.record, position, &entry),
        case_number: sync_protocol::codes::case_number(&detail.case.kit_id, detail.seq),
        inline: format!("{download}?inline=1"),
        download,
        case_link,
        pdf: media_type == "application/pdf",
    };
    let mut response = html(StatusCode::OK, &page);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(VIEW_CSP),
    );
    Ok(response)
}
