//! Attachment uploads with tus 1.0.0 — core, `creation`, `creation-with-upload`,
//! `checksum` (sha256) and `termination` (PROTOCOL.md §6.4). The upload id is the attachment id; only
//! attachments in the manifest of a delivered record of the asking kit can be uploaded.
//!
//! The database's offset is authoritative and moves only after the chunk is stored (in
//! the data folder or the object store, [`crate::blobs`]); the last chunk moves it only
//! after the whole file hashed to the manifest's `ciphertext_sha256` and was stored
//! under its content address. Any node can take the next chunk: the offset is in the
//! database, the chunks are objects in the shared store. A store that fails answers 503
//! `unavailable` with `Retry-After`, and nothing of that request counts.

use axum::extract::{Extension, Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use sha2::{Digest as _, Sha256};
use sync_protocol::attachment::{ciphertext_len, MAX_ATTACHMENT_BYTES};
use sync_protocol::ids::AttachmentId;

use super::decode::{checksum, decimal_header, parse_metadata};
use super::{AuthedKit, RawBody};
use crate::blobs::{BlobError, Completion};
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::UploadRow;

const TUS_VERSION: &str = "1.0.0";
const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
const UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");

fn max_upload() -> u64 {
    ciphertext_len(MAX_ATTACHMENT_BYTES)
}

/// Adds `Tus-Resumable` to every answer (and `Tus-Version` to a 412).
fn tus(result: Result<Response, ApiError>) -> Response {
    let version_refused = matches!(result, Err(ApiError::TusVersion));
    let mut response = result.unwrap_or_else(IntoResponse::into_response);
    let headers = response.headers_mut();
    headers.insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
    if version_refused {
        headers.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    }
    response
}

fn require_tus(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get("tus-resumable").and_then(|v| v.to_str().ok()) {
        Some(TUS_VERSION) => Ok(()),
        _ => Err(ApiError::TusVersion),
    }
}

fn with_offset(status: StatusCode, offset: u64) -> Response {
    (status, [(UPLOAD_OFFSET, HeaderValue::from(offset))]).into_response()
}

fn path_id(id: &str) -> Result<AttachmentId, ApiError> {
    id.parse()
        .map_err(|_| ApiError::NotFound("no such upload".into()))
}

/// The upload of a kit's delivered record that tus creation happened for.
async fn created_upload(
    app: &AppState,
    authed: &AuthedKit,
    id: &AttachmentId,
) -> Result<UploadRow, ApiError> {
    let upload = app
        .store
        .upload(&authed.kit.kit_id, id, None)
        .await?
        .ok_or(ApiError::UnknownAttachment)?;
    if !upload.created {
        return Err(ApiError::NotFound("the upload was not created".into()));
    }
    Ok(upload)
}

pub async fn options() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    h.insert(
        "tus-extension",
        HeaderValue::from_static("creation,creation-with-upload,checksum,termination"),
    );
    h.insert("tus-max-size", HeaderValue::from(max_upload()));
    h.insert("tus-checksum-algorithm", HeaderValue::from_static("sha256"));
    tus(Ok(response))
}

pub async fn create(
    State(app): State<AppState>,
    Extension(authed): Extension<AuthedKit>,
    Extension(RawBody(body)): Extension<RawBody>,
    headers: HeaderMap,
) -> Response {
    tus(async {
        require_tus(&headers)?;
        let length = decimal_header(&headers, &UPLOAD_LENGTH)?;
        if length > max_upload() {
            return Err(ApiError::TooLarge(format!(
                "Upload-Length is above {}",
                max_upload()
            )));
        }
        let metadata = headers.get("upload-metadata").and_then(|v| v.to_str().ok());
        let (record_id, attachment_id) = parse_metadata(metadata)?;
        // creation-with-upload: the body is the file's first bytes, checked as a PATCH's.
        let first_chunk = if body.is_empty() {
            None
        } else {
            require_chunk_type(&headers)?;
            Some(checksum(&headers)?)
        };
        let upload = app
            .store
            .upload(&authed.kit.kit_id, &attachment_id, Some(&record_id))
            .await?
            .ok_or(ApiError::UnknownAttachment)?;
        if upload.length != length {
            return Err(ApiError::Malformed(
                "Upload-Length must equal the manifest's ciphertext_size".into(),
            ));
        }
        if !upload.created {
            app.store.create_upload(&attachment_id).await?;
        }
        let mut offset = if upload.created { upload.offset } else { 0 };
        // The body counts only for an upload that holds nothing yet and that no other
        // request is writing; otherwise the offset tells the kit where to go on.
        if let Some(expected_sum) = first_chunk.filter(|_| offset == 0 && !upload.complete) {
            if let Some(_claim) = app.claim_upload(attachment_id) {
                let upload = created_upload(&app, &authed, &attachment_id).await?;
                if upload.offset == 0 && !upload.complete {
                    offset = store_chunk(&app, &upload, 0, body, &expected_sum).await?;
                } else {
                    offset = upload.offset;
                }
            }
        }
        let mut response = with_offset(StatusCode::CREATED, offset);
        let location = HeaderValue::from_str(&format!("/v1/uploads/{attachment_id}"))
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        response.headers_mut().insert(header::LOCATION, location);
        Ok(response)
    }
    .await)
}

/// A chunk's body must be `application/offset+octet-stream` (tus).
fn require_chunk_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type == "application/offset+octet-stream" {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType)
    }
}

pub async fn head(
    State(app): State<AppState>,
    Extension(authed): Extension<AuthedKit>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    tus(async {
        require_tus(&headers)?;
        let upload = created_upload(&app, &authed, &path_id(&id)?).await?;
        let mut response = with_offset(StatusCode::OK, upload.offset);
        let h = response.headers_mut();
        h.insert(UPLOAD_LENGTH, HeaderValue::from(upload.length));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(response)
    }
    .await)
}

/// A failed store: 503, the cause logged with the upload it hit.
fn unavailable(id: &AttachmentId, e: BlobError) -> ApiError {
    ApiError::StorageUnavailable(format!("upload {id}: {e}"))
}

/// The parts no longer hold the bytes the database's offset counts (lost, or deleted
/// behind the backend's back): the upload restarts from 0, and the kit learns it from
/// the 409's offset.
async fn restart(app: &AppState, id: &AttachmentId, sent: u64) -> Result<ApiError, ApiError> {
    tracing::warn!(attachment_id = %id, "stored parts short of the offset; restarting at 0");
    app.store.reset_upload(id, false).await?;
    Ok(ApiError::OffsetMismatch { sent, held: 0 })
}

pub async fn patch(
    State(app): State<AppState>,
    Extension(authed): Extension<AuthedKit>,
    Extension(RawBody(body)): Extension<RawBody>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    tus(async {
        require_tus(&headers)?;
        require_chunk_type(&headers)?;
        let offset = decimal_header(&headers, &UPLOAD_OFFSET)?;
        let expected_sum = checksum(&headers)?;
        let id = path_id(&id)?;
        let Some(_claim) = app.claim_upload(id) else {
            return Err(ApiError::OffsetMismatch {
                sent: offset,
                held: offset,
            });
        };
        let upload = created_upload(&app, &authed, &id).await?;
        if upload.complete {
            return Err(ApiError::Conflict("the upload is complete".into()));
        }
        if offset != upload.offset {
            return Err(ApiError::OffsetMismatch {
                sent: offset,
                held: upload.offset,
            });
        }
        let held = store_chunk(&app, &upload, offset, body, &expected_sum).await?;
        Ok(with_offset(StatusCode::NO_CONTENT, held))
    }
    .await)
}

/// Stores `body` at `offset` of a created upload that holds exactly `offset` bytes
/// (the caller holds its claim), and answers the offset now held. The one path by
/// which bytes enter an upload: `PATCH` and a creation with a body.
async fn store_chunk(
    app: &AppState,
    upload: &UploadRow,
    offset: u64,
    body: bytes::Bytes,
    expected_sum: &[u8; 32],
) -> Result<u64, ApiError> {
    let id = upload.attachment_id;
    let end = offset + body.len() as u64;
    if end > upload.length {
        return Err(ApiError::TooLarge(
            "the chunk runs past Upload-Length".into(),
        ));
    }
    if Sha256::digest(&body).as_slice() != expected_sum {
        return Err(ApiError::ChecksumMismatch);
    }
    let chunk_len = body.len() as u64;
    match app.blobs.write_chunk(&id, offset, body).await {
        Ok(()) => {}
        Err(BlobError::Short { .. }) => return Err(restart(app, &id, offset).await?),
        Err(e) => return Err(unavailable(&id, e)),
    }
    if end < upload.length {
        if !app
            .store
            .advance_upload(&id, offset, end, false, Utc::now())
            .await?
        {
            return Err(ApiError::OffsetMismatch {
                sent: offset,
                held: offset,
            });
        }
        app.metrics.upload_bytes(chunk_len);
        return Ok(end);
    }
    finish(app, upload, offset, chunk_len).await
}

/// The last chunk is stored: check the whole file while storing it under its hash, then
/// mark it complete and delete the parts.
async fn finish(
    app: &AppState,
    upload: &UploadRow,
    offset: u64,
    chunk_len: u64,
) -> Result<u64, ApiError> {
    let (id, length, expected) = (
        upload.attachment_id,
        upload.length,
        upload.ciphertext_sha256,
    );
    match app.blobs.complete(&id, length, &expected).await {
        Ok(Completion::Stored) => {}
        Ok(Completion::HashMismatch) => {
            tracing::warn!(attachment_id = %id, "completed upload does not match its manifest hash");
            // The offset first: a later chunk at 0 deletes whatever parts remain.
            app.store.reset_upload(&id, false).await?;
            if let Err(e) = app.blobs.discard(&id).await {
                tracing::warn!(attachment_id = %id, error = %e, "could not delete the parts");
            }
            return Err(ApiError::AttachmentHashMismatch);
        }
        Err(BlobError::Short { .. }) => return Err(restart(app, &id, offset).await?),
        Err(e) => return Err(unavailable(&id, e)),
    }
    if !app
        .store
        .advance_upload(&id, offset, length, true, Utc::now())
        .await?
    {
        return Err(ApiError::OffsetMismatch {
            sent: offset,
            held: offset,
        });
    }
    app.metrics.upload_bytes(chunk_len);
    tracing::info!(attachment_id = %id, bytes = length, "attachment complete");
    if let Err(e) = app.blobs.discard(&id).await {
        tracing::warn!(attachment_id = %id, error = %e, "could not delete the parts");
    }
    Ok(length)
}

pub async fn delete(
    State(app): State<AppState>,
    Extension(authed): Extension<AuthedKit>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    tus(async {
        require_tus(&headers)?;
        let id = path_id(&id)?;
        let Some(_claim) = app.claim_upload(id) else {
            return Err(ApiError::Conflict(
                "another request is writing this upload".into(),
            ));
        };
        let upload = created_upload(&app, &authed, &id).await?;
        if upload.complete {
            return Err(ApiError::Conflict(
                "a complete upload cannot be terminated".into(),
            ));
        }
        app.blobs
            .discard(&id)
            .await
            .map_err(|e| unavailable(&id, e))?;
        app.store.reset_upload(&id, true).await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }
    .await)
}
