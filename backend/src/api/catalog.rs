//! `GET /v1/catalog/current` (PROTOCOL.md §6.6): the signed catalog envelope exactly as
//! published, with an `ETag` so that kits can ask `If-None-Match` and get `304`.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == etag)
}

pub async fn current(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let catalog = app
        .store
        .current_catalog()
        .await?
        .ok_or_else(|| ApiError::NotFound("no catalog is published".into()))?;
    let etag = HeaderValue::from_str(&catalog.etag)
        .map_err(|e| ApiError::Internal(format!("stored etag: {e}")))?;
    if etag_matches(&headers, &catalog.etag) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        catalog.envelope_json,
    )
        .into_response())
}
