//! `POST /v1/enrol` (PROTOCOL.md §6.1): verifies the self-signed enrolment request,
//! consumes the one-time code and answers with the kit id and the server keys. Failed
//! codes are limited per client address (the TCP peer, [`crate::codes::FailureLimiter`]).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Extension, State};
use axum::response::Response;
use chrono::Utc;
use sync_protocol::api::{EnrolRequest, EnrolResponse};
use sync_protocol::dsse::Envelope;
use sync_protocol::ProtocolError;

use super::{json, RawBody};
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::EnrolOutcome;

pub async fn enrol(
    State(app): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    Extension(RawBody(body)): Extension<RawBody>,
) -> Result<Response, ApiError> {
    let client = crate::login_throttle::client_key(peer.map(|Extension(ConnectInfo(a))| a));
    let envelope = Envelope::from_json(&body).map_err(|e| match e {
        ProtocolError::TooLarge { .. } => ApiError::TooLarge(e.to_string()),
        other => ApiError::Malformed(other.to_string()),
    })?;
    let (request, key) = EnrolRequest::verify(&envelope).map_err(|e| match e {
        ProtocolError::BadSignature | ProtocolError::WrongKeyId { .. } => {
            ApiError::BadSignature(e.to_string())
        }
        other => ApiError::Malformed(other.to_string()),
    })?;
    if let Some(secs) = app.enrol_retry_after(&client) {
        return Err(ApiError::RateLimited(secs));
    }
    let now = Utc::now();
    let outcome = app
        .store
        .enrol(
            &crate::codes::hash(&request.code),
            key.as_bytes(),
            &request.kit_name,
            now,
        )
        .await?;
    let kit = match outcome {
        EnrolOutcome::Enrolled(kit) => {
            tracing::info!(kit_id = %kit.kit_id, authority = %kit.authority_id, "kit enrolled");
            kit
        }
        EnrolOutcome::Repeated(kit) => kit,
        EnrolOutcome::CodeInvalid => {
            app.note_enrol_failure(&client);
            tracing::warn!("enrolment with an unknown, expired or used code");
            return Err(ApiError::EnrolmentCodeInvalid);
        }
        EnrolOutcome::KeyConflict => {
            return Err(ApiError::Conflict(
                "this public key is already enrolled for another kit".into(),
            ))
        }
    };
    app.cache_kit_key(kit.kit_id, key);
    let response = EnrolResponse {
        kit_id: kit.kit_id,
        authority_id: kit.authority_id,
        kit_name: kit.name,
        server_keys: app.server_keys.clone(),
        server_time: now,
    };
    Ok(json(201, &response))
}
