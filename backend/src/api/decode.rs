//! Decoders of request headers and query strings, kept apart from the handlers so that
//! property tests (`backend/tests/it/props.rs`) can throw arbitrary input at them. None
//! of them panics; each returns the [`ApiError`] the handler answers with.

use axum::http::{HeaderMap, HeaderName};
use serde::Deserialize;
use sync_protocol::api::{QueueBlock, MAX_BATCH_BYTES, MAX_BATCH_RECORDS, MAX_CHANGES_PAGE};
use sync_protocol::b64;
use sync_protocol::dsse::{Envelope, MAX_ENVELOPE_BYTES};
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

/// The most undelivered records a kit can report (`outbox`): a kit's chain is at most
/// 2^53 − 1 records long.
pub const MAX_OUTBOX: u64 = MAX_SEQ;

/// The `GET /v1/changes` query, parsed strictly: only `after`, `limit`, `outbox`,
/// `blocked` and `blocked_seq`, each at most once; numbers as plain decimal digits
/// without sign or leading zeros, `blocked` one of the [`QueueBlock`] names and only
/// together with `blocked_seq` and `outbox`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangesQuery {
    /// The cursor (default 0).
    pub after: u64,
    /// The page size (default [`DEFAULT_CHANGES_LIMIT`]).
    pub limit: u32,
    /// The kit's report of finalized records it holds without a final answer
    /// (PROTOCOL.md §6.5), if it sent one.
    pub outbox: Option<u64>,
    /// Where and why the kit's queue stopped, if it reported that it did (§6.5).
    pub blocked: Option<(QueueBlock, u64)>,
}

/// Parses the `GET /v1/changes` query: `(after, limit)`; see [`parse_changes_query`].
pub fn parse_query(query: Option<&str>) -> Result<(u64, u32), ApiError> {
    parse_changes_query(query).map(|q| (q.after, q.limit))
}

/// Parses the `GET /v1/changes` query strictly ([`ChangesQuery`]).
pub fn parse_changes_query(query: Option<&str>) -> Result<ChangesQuery, ApiError> {
    let bad = |why: &str| ApiError::Malformed(format!("query: {why}"));
    let mut after = None;
    let mut limit = None;
    let mut outbox = None;
    let mut blocked_seq = None;
    let mut blocked = None;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| bad("key=value pairs only"))?;
        if key == "blocked" {
            let reason = QueueBlock::parse(value).ok_or_else(|| {
                bad("blocked is chain_broken, cannot_resend or resent_record_refused")
            })?;
            if blocked.replace(reason).is_some() {
                return Err(bad("each parameter at most once"));
            }
            continue;
        }
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
            "outbox" => &mut outbox,
            "blocked_seq" => &mut blocked_seq,
            _ => {
                return Err(bad(
                    "only after, limit, outbox, blocked and blocked_seq are allowed",
                ))
            }
        };
        if slot.replace(n).is_some() {
            return Err(bad("each parameter at most once"));
        }
    }
    let after = after.unwrap_or(0);
    if after > MAX_SEQ {
        return Err(bad("after is at most 2^53-1"));
    }
    if outbox.is_some_and(|n| n > MAX_OUTBOX) {
        return Err(bad("outbox is at most 2^53-1"));
    }
    let blocked = match (blocked, blocked_seq) {
        (None, None) => None,
        (Some(reason), Some(seq)) if outbox.is_some() && (1..=MAX_SEQ).contains(&seq) => {
            Some((reason, seq))
        }
        (Some(_), Some(_)) if outbox.is_none() => {
            return Err(bad("blocked is reported together with outbox"))
        }
        (Some(_), Some(_)) => return Err(bad("blocked_seq is 1 to 2^53-1")),
        _ => return Err(bad("blocked and blocked_seq come together")),
    };
    let limit = limit.unwrap_or(u64::from(DEFAULT_CHANGES_LIMIT));
    if !(1..=u64::from(MAX_CHANGES_PAGE)).contains(&limit) {
        return Err(bad("limit is 1 to 500"));
    }
    Ok(ChangesQuery {
        after,
        limit: u32::try_from(limit).unwrap_or(DEFAULT_CHANGES_LIMIT),
        outbox,
        blocked,
    })
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

/// One element of a push batch's `envelopes`: an envelope, or any other JSON value
/// (which becomes that envelope's own rejection, PROTOCOL.md §6.3 step 2).
#[derive(Deserialize)]
#[serde(untagged)]
enum BatchElement {
    Envelope(Envelope),
    Other(serde_json::Value),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBatch {
    envelopes: Vec<BatchElement>,
}

/// Parses a `POST /v1/records` body (§6.3). The limits (body, envelope count, envelope
/// size) and the batch's own shape apply to the whole request; an element that is not
/// a DSSE envelope (an unknown or duplicate member, a wrong type) is that element's
/// problem only: it comes back as `Err(detail)` in its place, and the others proceed.
///
/// # Errors
/// `too-large` or `malformed-request` for the whole batch.
pub fn parse_batch(body: &[u8]) -> Result<Vec<Result<Envelope, String>>, ApiError> {
    let too_large = |what: &str, actual: usize, limit: usize| {
        ApiError::TooLarge(format!("{what} is {actual}, at most {limit}"))
    };
    if body.len() > MAX_BATCH_BYTES {
        return Err(too_large("the batch (bytes)", body.len(), MAX_BATCH_BYTES));
    }
    let batch: RawBatch =
        serde_json::from_slice(body).map_err(|e| ApiError::Malformed(format!("batch: {e}")))?;
    if batch.envelopes.is_empty() {
        return Err(ApiError::Malformed(
            "envelopes: at least one envelope".into(),
        ));
    }
    if batch.envelopes.len() > MAX_BATCH_RECORDS {
        return Err(too_large(
            "the batch (envelopes)",
            batch.envelopes.len(),
            MAX_BATCH_RECORDS,
        ));
    }
    batch
        .envelopes
        .into_iter()
        .map(|element| {
            let (size, decoded) = match element {
                BatchElement::Envelope(env) => (env.to_json().len(), Ok(env)),
                BatchElement::Other(value) => {
                    let bytes = serde_json::to_vec(&value).unwrap_or_default();
                    let why = match Envelope::from_json(&bytes) {
                        Err(e) => e.to_string(),
                        // The value parses once duplicates collapsed: that was the fault.
                        Ok(_) => "envelope: duplicate member names".to_owned(),
                    };
                    (bytes.len(), Err(why))
                }
            };
            if size > MAX_ENVELOPE_BYTES {
                return Err(too_large("an envelope (bytes)", size, MAX_ENVELOPE_BYTES));
            }
            Ok(decoded)
        })
        .collect()
}
