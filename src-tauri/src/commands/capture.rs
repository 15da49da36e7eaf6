//! The services, drafts (autosaved), attachments, the signed printout and finalize.

use chrono::Local;
use kit_core::fieldkit_catalog::din91379::normalize_nfc;
use kit_core::protocol::b64;
use kit_core::{KitError, PrintoutOptions, Session};
use serde_json::Value;
use tauri::ipc::{InvokeBody, Request};

use super::{blocking, AppState};
use crate::dto::{
    AttachmentDto, CheckResult, DraftDto, DraftSummaryDto, FinalizedDto, FormDto, PrintoutDto,
    ServiceDto, SignedPrintoutDto,
};
use crate::error::{AppError, ErrorKind};

/// Header naming the draft of an `attach_file` call.
pub const DRAFT_HEADER: &str = "fieldkit-draft-id";
/// Header naming the catalog's attachment id.
pub const SPEC_HEADER: &str = "fieldkit-spec-id";
/// Header with the file's media type.
pub const MEDIA_TYPE_HEADER: &str = "fieldkit-media-type";
/// Header of `attach_file`: the picked file's name, URI-encoded (headers are ASCII).
/// Optional; kit-core sanitizes it and seals it into the case.
pub const FILE_NAME_HEADER: &str = "fieldkit-file-name";

/// The picked file's name from its header: `None` without one, an error for text that
/// is not URI-encoded UTF-8.
fn file_name(request: &Request<'_>) -> Result<Option<String>, AppError> {
    let Some(raw) = request.headers().get(FILE_NAME_HEADER) else {
        return Ok(None);
    };
    let encoded = raw
        .to_str()
        .map_err(|_| AppError::bad_input(format!("header {FILE_NAME_HEADER} is not ASCII")))?;
    decode_file_name(encoded).map(Some)
}

/// `encodeURIComponent`'s output back to the name.
pub(crate) fn decode_file_name(encoded: &str) -> Result<String, AppError> {
    percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| {
            AppError::bad_input(format!(
                "header {FILE_NAME_HEADER} is not URI-encoded UTF-8"
            ))
        })
}

/// The installed catalog's services, available offline or not.
#[tauri::command]
pub async fn services(state: AppState<'_>) -> Result<Vec<ServiceDto>, AppError> {
    blocking(&state, |s| {
        s.with_session(|session| {
            Ok(session
                .catalog()?
                .services
                .iter()
                .map(ServiceDto::from)
                .collect())
        })
    })
    .await
}

/// A service's form valid today, with its attachment kinds.
#[tauri::command]
pub async fn service_form(state: AppState<'_>, service_id: String) -> Result<FormDto, AppError> {
    blocking(&state, move |s| {
        s.with_session(|session| {
            let service = session.catalog()?.service(&service_id)?;
            let form = service.current_form(Local::now().date_naive());
            Ok((
                ServiceDto::from(service),
                form.cloned(),
                service.attachments.clone(),
            ))
        })
        .and_then(|(service, form, attachments)| {
            let form = form.ok_or_else(|| {
                let reason = service
                    .unavailable_reason
                    .as_ref()
                    .map_or_else(|| "no form valid today".to_owned(), |r| r.de.clone());
                AppError::new(ErrorKind::UnavailableOffline, reason)
            })?;
            Ok(FormDto {
                service,
                form_version: form.version,
                schema: form.schema,
                ui: form.ui,
                attachments: attachments.iter().map(Into::into).collect(),
            })
        })
    })
    .await
}

/// Open drafts, newest first.
#[tauri::command]
pub async fn drafts(state: AppState<'_>) -> Result<Vec<DraftSummaryDto>, AppError> {
    blocking(&state, |s| {
        s.with_session(|session| Ok(session.drafts()?.into_iter().map(Into::into).collect()))
    })
    .await
}

/// Starts a draft.
#[tauri::command]
pub async fn create_draft(
    state: AppState<'_>,
    service_id: String,
    data: Value,
) -> Result<String, AppError> {
    blocking(&state, move |s| {
        s.with_session(|session| session.create_draft(&service_id, &data))
    })
    .await
}

/// Starts the answer to the back office's Rückfrage on a record: a draft of kind
/// supplement holding the clerk's note, to which documents are attached and which is sent
/// by `finalize` (kit-core `Session::start_answer`).
#[tauri::command]
pub async fn start_answer(
    state: AppState<'_>,
    record_id: String,
    note: String,
) -> Result<String, AppError> {
    blocking(&state, move |s| {
        s.with_session(|session| session.start_answer(&record_id, &note))
    })
    .await
}

/// A draft with its data and files.
#[tauri::command]
pub async fn open_draft(state: AppState<'_>, draft_id: String) -> Result<DraftDto, AppError> {
    blocking(&state, move |s| {
        s.with_session(|session| {
            let summary = session
                .drafts()?
                .into_iter()
                .find(|d| d.id == draft_id)
                .ok_or_else(|| kit_core::KitError::NotFound(format!("draft {draft_id}")))?;
            Ok(DraftDto {
                summary: summary.into(),
                data: session.draft_data(&draft_id)?,
                attachments: session
                    .draft_attachments(&draft_id)?
                    .into_iter()
                    .map(Into::into)
                    .collect(),
            })
        })
    })
    .await
}

/// Saves a draft's data (autosave).
#[tauri::command]
pub async fn save_draft(
    state: AppState<'_>,
    draft_id: String,
    data: Value,
) -> Result<(), AppError> {
    blocking(&state, move |s| {
        s.with_session(|session| session.update_draft(&draft_id, &data))
    })
    .await
}

/// Deletes a draft and its files.
#[tauri::command]
pub async fn discard_draft(state: AppState<'_>, draft_id: String) -> Result<(), AppError> {
    blocking(&state, move |s| {
        s.with_session(|session| session.discard_draft(&draft_id))
    })
    .await
}

/// What stands between a draft and finalize.
#[tauri::command]
pub async fn check_draft(state: AppState<'_>, draft_id: String) -> Result<CheckResult, AppError> {
    blocking(&state, move |s| {
        s.with_session(|session| session.check_draft(&draft_id))
            .map(Into::into)
    })
    .await
}

fn header<'a>(request: &'a Request<'_>, name: &str) -> Result<&'a str, AppError> {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AppError::bad_input(format!("header {name} missing")))
}

/// Imports a file into a draft: the raw bytes are the request body, the draft, kind,
/// media type and (optionally) the file's name are headers. Encrypted on the way to
/// disk by `kit-core`; the name is kept sanitized and travels only sealed.
#[tauri::command]
pub async fn attach_file(
    state: AppState<'_>,
    request: Request<'_>,
) -> Result<AttachmentDto, AppError> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(AppError::bad_input("the file must be sent as raw bytes"));
    };
    if bytes.is_empty() {
        return Err(AppError::new(
            ErrorKind::AttachmentRefused,
            "the file is empty",
        ));
    }
    let draft_id = header(&request, DRAFT_HEADER)?.to_owned();
    let spec_id = header(&request, SPEC_HEADER)?.to_owned();
    let media_type = header(&request, MEDIA_TYPE_HEADER)?.to_owned();
    let name = file_name(&request)?;
    let bytes = bytes.clone();
    blocking(&state, move |s| {
        s.with_session(|session| {
            session.attach_named(
                &draft_id,
                &spec_id,
                &media_type,
                name.as_deref(),
                bytes.as_slice(),
            )
        })
        .map(Into::into)
    })
    .await
}

/// Removes a file from a draft.
#[tauri::command]
pub async fn detach(
    state: AppState<'_>,
    draft_id: String,
    attachment_id: String,
) -> Result<(), AppError> {
    blocking(&state, move |s| {
        s.with_session(|session| session.detach(&draft_id, &attachment_id))
    })
    .await
}

/// Makes the draft's signed printout with `kit-core` (PDF/A-3a + PDF/UA-1, the citizen's
/// signature on it) and attaches it as the service's `form` file, replacing any earlier
/// one. `signature_png` is the signature pad's `data:image/png;base64,…` URL (or bare
/// base64); `place` is where the citizen signed. The PDF never crosses the IPC boundary.
#[tauri::command]
pub async fn sign_printout(
    state: AppState<'_>,
    draft_id: String,
    place: String,
    signature_png: String,
) -> Result<SignedPrintoutDto, AppError> {
    let png = signature_png_bytes(&signature_png)?;
    blocking(&state, move |s| {
        s.with_session(|session| attach_signed_printout(session, &draft_id, &place, png))
    })
    .await
}

/// The largest signature image taken. The pad's PNG of a signature is some 10–200 KB;
/// anything near this is not a signature.
pub const MAX_SIGNATURE_BYTES: usize = 4 * 1024 * 1024;
const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
const PNG_DATA_URL: &str = "data:image/png;base64";

/// The PNG bytes of a signature sent as a data URL or as bare base64.
///
/// # Errors
/// [`ErrorKind::BadInput`] for another media type, text that is not strict base64, an
/// empty or oversized image, or bytes that do not start like a PNG.
pub fn signature_png_bytes(text: &str) -> Result<Vec<u8>, AppError> {
    let encoded = match text.split_once(',') {
        Some((scheme, encoded)) if scheme.eq_ignore_ascii_case(PNG_DATA_URL) => encoded,
        Some(_) => {
            return Err(AppError::bad_input(
                "the signature must be a PNG image sent as data:image/png;base64,…",
            ))
        }
        None => text,
    };
    if encoded.is_empty() {
        return Err(AppError::bad_input("the signature image is empty"));
    }
    // Checked before decoding so that an oversized text is never decoded.
    if encoded.len() > MAX_SIGNATURE_BYTES.div_ceil(3) * 4 {
        return Err(AppError::bad_input(format!(
            "the signature image is larger than {} MB",
            MAX_SIGNATURE_BYTES / (1024 * 1024)
        )));
    }
    let png =
        b64::decode("signature_png", encoded).map_err(|e| AppError::bad_input(e.to_string()))?;
    if !png.starts_with(PNG_MAGIC) {
        return Err(AppError::bad_input("the signature image is not a PNG"));
    }
    Ok(png)
}

/// [`Session::sign_printout`] as the app shows it.
///
/// # Errors
/// As [`Session::sign_printout`].
pub fn attach_signed_printout(
    session: &mut Session,
    draft_id: &str,
    place: &str,
    signature_png: Vec<u8>,
) -> Result<SignedPrintoutDto, KitError> {
    let signed = session.sign_printout(draft_id, place, signature_png)?;
    Ok(SignedPrintoutDto {
        attachment: signed.attachment.into(),
        replaced: signed.replaced,
    })
}

/// What the signed printout of a draft will say (`place` as the citizen gives it, else
/// the form's city), for the signature step to show above the pad: the citizen signs
/// what they read.
#[tauri::command]
pub async fn printout_preview(
    state: AppState<'_>,
    draft_id: String,
    place: Option<String>,
) -> Result<PrintoutDto, AppError> {
    blocking(&state, move |s| {
        s.with_session(|session| {
            let place = place
                .map(|p| normalize_nfc(p.trim()))
                .filter(|p| !p.is_empty());
            let options = PrintoutOptions {
                place,
                ..PrintoutOptions::default()
            };
            Ok(session.printout_content(&draft_id, &options)?.into())
        })
    })
    .await
}

/// Validates, seals, signs, chains and commits a draft; then asks for a sync.
#[tauri::command]
pub async fn finalize(state: AppState<'_>, draft_id: String) -> Result<FinalizedDto, AppError> {
    blocking(&state, move |s| {
        let done = s.with_session(|session| session.finalize(&draft_id))?;
        // Offline is normal: the record waits in the queue.
        let _ = s.sync_now();
        Ok(done.into())
    })
    .await
}

#[cfg(test)]
mod tests;
