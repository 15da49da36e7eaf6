//! The queue: finalized records, their history from the back office, and sync.

use super::{blocking, AppState};
use crate::dto::{CaseUpdateDto, QueueStatusDto, RecordAttachmentDto, RecordDetailDto, RecordDto};
use crate::error::AppError;

/// The longest queue list the app shows at once.
const MAX_LISTED: usize = 500;

/// Finalized records, newest first.
#[tauri::command]
pub async fn records(state: AppState<'_>) -> Result<Vec<RecordDto>, AppError> {
    blocking(&state, |s| {
        s.with_session(|session| {
            Ok(session
                .records(None, MAX_LISTED)?
                .into_iter()
                .map(Into::into)
                .collect())
        })
    })
    .await
}

/// One record with its back-office history and files.
#[tauri::command]
pub async fn record_detail(
    state: AppState<'_>,
    record_id: String,
) -> Result<RecordDetailDto, AppError> {
    blocking(&state, move |s| {
        s.with_session(|session| {
            let record = session.record(&record_id)?;
            let history = session.case_history(&record.record_id)?;
            let attachments = session.record_attachments(&record.record_id)?;
            Ok(RecordDetailDto {
                history: history
                    .into_iter()
                    .map(|u| CaseUpdateDto {
                        status: u.status,
                        comment: u.comment,
                        at: u.at,
                    })
                    .collect(),
                attachments: attachments
                    .into_iter()
                    .map(|a| RecordAttachmentDto {
                        attachment_id: a.attachment_id,
                        spec_id: a.spec_id,
                        size: a.ciphertext_size,
                        uploaded: a.uploaded,
                    })
                    .collect(),
                record: record.into(),
            })
        })
    })
    .await
}

/// The queue in numbers, and whether the backend answers.
#[tauri::command]
pub async fn queue_status(state: AppState<'_>) -> Result<QueueStatusDto, AppError> {
    blocking(&state, |s| {
        let status = s.with_session(|session| session.status())?;
        Ok(QueueStatusDto {
            connectivity: s.connectivity(),
            ..status.into()
        })
    })
    .await
}

/// Syncs now instead of at the next turn; progress arrives as events.
#[tauri::command]
pub async fn sync_now(state: AppState<'_>) -> Result<(), AppError> {
    blocking(&state, |s| s.sync_now()).await
}
