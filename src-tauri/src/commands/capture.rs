//! The services, drafts (autosaved), attachments and finalize.

use chrono::Local;
use serde_json::Value;
use tauri::ipc::{InvokeBody, Request};

use super::{blocking, AppState};
use crate::dto::{
    AttachmentDto, CheckResult, DraftDto, DraftSummaryDto, FinalizedDto, FormDto, ServiceDto,
};
use crate::error::{AppError, ErrorKind};

/// Header naming the draft of an `attach_file` call.
pub const DRAFT_HEADER: &str = "fieldkit-draft-id";
/// Header naming the catalog's attachment id.
pub const SPEC_HEADER: &str = "fieldkit-spec-id";
/// Header with the file's media type.
pub const MEDIA_TYPE_HEADER: &str = "fieldkit-media-type";

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

/// Imports a file into a draft: the raw bytes are the request body, the draft, kind
/// and media type are headers. Encrypted on the way to disk by `kit-core`.
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
    let bytes = bytes.clone();
    blocking(&state, move |s| {
        s.with_session(|session| session.attach(&draft_id, &spec_id, &media_type, bytes.as_slice()))
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
