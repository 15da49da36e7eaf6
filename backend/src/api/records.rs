//! `POST /v1/records` (PROTOCOL.md §6.3): parse the batch (limits before any signature
//! work), verify every envelope off the async runtime, then run the batch in one store
//! transaction ([`crate::ingest`]) and answer one result per envelope.

use std::time::Instant;

use axum::extract::{Extension, State};
use axum::response::Response;
use chrono::Utc;
use sync_protocol::api::{Outcome, ProblemCode, PushBatchResponse};

use super::{json, AuthedKit, RawBody};
use crate::error::ApiError;
use crate::ingest;
use crate::state::AppState;
use crate::storage::{KitStatus, StoreError};

fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Accepted => "accepted",
        Outcome::Duplicate => "duplicate",
        Outcome::Gap => "gap",
        Outcome::Rejected => "rejected",
        Outcome::Conflict => "conflict",
    }
}

pub async fn push(
    State(app): State<AppState>,
    Extension(authed): Extension<AuthedKit>,
    Extension(RawBody(body)): Extension<RawBody>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    within_quota(&app, &authed.kit.kit_id).await?;
    let elements = super::decode::parse_batch(&body)?;
    let catalogs = app
        .catalog
        .published(app.store.as_ref(), &app.server_verifying_keys())
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let (kit_id, key) = (authed.kit.kit_id, authed.key);
    let items = tokio::task::spawn_blocking(move || {
        // An element that is no envelope fails §4.6 on its own (§6.3 step 2).
        elements
            .iter()
            .map(|e| match e {
                Ok(env) => ingest::prepare_one(env, kit_id, &key, &catalogs),
                Err(why) => ingest::BatchItem::Unverified(crate::error::problem(
                    ProblemCode::BadRecordSignature,
                    why.clone(),
                )),
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let outcome = ingest::push_batch(&app.store, &kit_id, items, &app.server_key, Utc::now())
        .await
        .map_err(|e| match e {
            StoreError::KitNotActive(KitStatus::Quarantined) => ApiError::KitQuarantined,
            StoreError::KitNotActive(_) => ApiError::KitRevoked,
            other => other.into(),
        })?;
    for r in &outcome.results {
        let reason = r.problem.as_ref().map_or("none".to_owned(), |p| {
            serde_json::to_value(p.code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        });
        app.metrics.record(outcome_name(r.outcome), &reason);
        if r.outcome != Outcome::Accepted && r.outcome != Outcome::Duplicate {
            tracing::info!(
                kit_id = %kit_id,
                record_id = ?r.record_id,
                outcome = outcome_name(r.outcome),
                reason = %reason,
                resend_from = ?r.resend_from,
                "record not accepted"
            );
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    app.metrics.batch(seconds);
    tracing::debug!(kit_id = %kit_id, records = outcome.results.len(), seconds, "batch stored");
    Ok(json(
        200,
        &PushBatchResponse {
            results: outcome.results,
            head: outcome.head,
            server_time: Utc::now(),
        },
    ))
}

/// The kit's quotas (PROTOCOL.md §6.7), checked before each batch: over one, the whole
/// batch is answered 429 `quota-exceeded` — nothing is rejected, the kit keeps its
/// records, retries after `Retry-After` and shows the clerk the detail.
async fn within_quota(app: &AppState, kit: &sync_protocol::ids::KitId) -> Result<(), ApiError> {
    let limits = app.limits();
    let usage = app
        .store
        .kit_usage(kit, Utc::now() - chrono::Duration::days(1))
        .await?;
    if usage.records_since >= limits.quota_records_per_day {
        return Err(ApiError::QuotaExceeded {
            detail: format!(
                "Tageskontingent erreicht: {} Datensätze in 24 Stunden (erlaubt: {}). Die \
                 Datensätze bleiben im Koffer und werden später gesendet; bei Bedarf \
                 IT-Betreuung fragen. / Daily quota reached: {} records in 24 hours \
                 (allowed: {}); the records stay on the kit and are sent later.",
                usage.records_since,
                limits.quota_records_per_day,
                usage.records_since,
                limits.quota_records_per_day
            ),
            retry_after: 3600,
        });
    }
    if usage.pending_upload_bytes >= limits.quota_pending_upload_bytes {
        let mib = |b: u64| b / (1024 * 1024);
        return Err(ApiError::QuotaExceeded {
            detail: format!(
                "Zu viele Anhänge warten auf das Hochladen: {} MiB (erlaubt: {} MiB). Neue \
                 Datensätze folgen, sobald die Anhänge hochgeladen sind. / Too many \
                 attachments wait to be uploaded: {} MiB (allowed: {} MiB); new records \
                 follow once they are uploaded.",
                mib(usage.pending_upload_bytes),
                mib(limits.quota_pending_upload_bytes),
                mib(usage.pending_upload_bytes),
                mib(limits.quota_pending_upload_bytes)
            ),
            retry_after: 60,
        });
    }
    Ok(())
}
