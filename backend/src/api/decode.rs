//! Decoders of request headers and query strings, kept apart from the handlers so that
//! property tests (`backend/tests/it/props.rs`) can throw arbitrary input at them. None
//! of them panics; each returns the [`ApiError`] the handler answers with.

use axum::http::{HeaderMap, HeaderName};
use sync_protocol::api::MAX_CHANGES_PAGE;
use sync_protocol::b64;
use sync_protocol::ids::{AttachmentId, RecordId};
use sync_protocol::record::MAX_SEQ;

use crate::error::ApiError;

/// The default page size of the changes feed.
pub const DEFAULT_CHANGES_LIMIT: u32 = 100;

/// Checks the `Fieldkit-Protocol` header: ASCII decimal without sign or leading zeros,
/// naming a supported version.
pub fn protocol_version_ok(value: Option<&str>) -> bool {
    value
        .filter(|v| !v.starts_with('0') && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<u32>().ok())
        .is_some_and(|v| sync_protocol::SUPPORTED_PROTOCOL_VERSIONS.contains(&v))
}

/// Parses the `GET /v1/changes` query strictly: only `after` and `limit`, each at most once, plain
/// decimal digits without sign or leading zeros.
pub fn parse_query(query: Option<&str>) -> Result<(u64, u32), ApiError> {
    let bad = |why: &str| ApiError::Malformed(format!("query: {why}"));
    let mut after = None;
    let mut limit = None;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| bad("key=value pairs only"))?;
        if value.is_empty()
            || !value.bytes().all(|b| b.is_ascii_digit())
            || (value.len() > 1 && value.starts_with('0'))
            || value.len() > 16
        {
            return Err(bad("values are decimal numbers"));
        }
        let n: u64 = value
            .parse()
            .map_err(|_| bad("values are decimal numbers"))?;
        let slot = match key {
            "after" => &mut after,
            "limit" => &mut limit,
            _ => return Err(bad("only after and limit are allowed")),
        };
        if slot.replace(n).is_some() {
            return Err(bad("each parameter at most once"));
        }
    }
    let after = after.unwrap_or(0);
    if after > MAX_SEQ {
        return Err(bad("after is at most 2^53-1"));
    }
    let limit = limit.unwrap_or(u64::from(DEFAULT_CHANGES_LIMIT));
    if !(1..=u64::from(MAX_CHANGES_PAGE)).contains(&limit) {
        return Err(bad("limit is 1 to 500"));
    }
    Ok((after, u32::try_from(limit).unwrap_or(DEFAULT_CHANGES_LIMIT)))
}

/// Parses `Upload-Metadata`: exactly `record_id` and `attachment_id`, each canonical
/// base64 of the id's text.
pub fn parse_metadata(value: Option<&str>) -> Result<(RecordId, AttachmentId), ApiError> {
    let bad = |why: &str| ApiError::Malformed(format!("Upload-Metadata: {why}"));
    let value = value.ok_or_else(|| bad("missing"))?;
    let mut record = None;
    let mut attachment = None;
    for pair in value.split(',') {
        let (key, encoded) = pair
            .trim_matches(' ')
            .split_once(' ')
            .ok_or_else(|| bad("each entry is a key, a space and base64"))?;
        let text = b64::decode("upload-metadata", encoded)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| bad("values are canonical base64 of UTF-8"))?;
        let slot = match key {
            "record_id" => &mut record,
            "attachment_id" => &mut attachment,
            _ => return Err(bad("only record_id and attachment_id are allowed")),
        };
        if slot.replace(text).is_some() {
            return Err(bad("each key at most once"));
        }
    }
    let record_id = record
        .ok_or_else(|| bad("record_id is missing"))?
        .parse()
        .map_err(|_| bad("record_id is not a UUID"))?;
    let attachment_id = attachment
        .ok_or_else(|| bad("attachment_id is missing"))?
        .parse()
        .map_err(|_| bad("attachment_id is not a UUID"))?;
    Ok((record_id, attachment_id))
}

/// A header holding a decimal number (`Upload-Offset`, `Upload-Length`).
pub fn decimal_header(headers: &HeaderMap, name: &HeaderName) -> Result<u64, ApiError> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) && v.len() <= 20)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| ApiError::Malformed(format!("{name} must be a decimal number")))
}

/// `Upload-Checksum: sha256 <base64>`: the 32-byte digest.
pub fn checksum(headers: &HeaderMap) -> Result<[u8; 32], ApiError> {
    let value = headers
        .get("upload-checksum")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::Malformed("Upload-Checksum is required".into()))?;
    let (algorithm, encoded) = value
        .split_once(' ')
        .ok_or_else(|| ApiError::Malformed("Upload-Checksum is `sha256 <base64>`".into()))?;
    if algorithm != "sha256" {
        return Err(ApiError::Malformed(
            "Upload-Checksum algorithm must be sha256".into(),
        ));
    }
    b64::decode_array::<32>("upload-checksum", encoded)
        .map_err(|e| ApiError::Malformed(e.to_string()))
}
