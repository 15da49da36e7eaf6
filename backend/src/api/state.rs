//! `GET /v1/state` (PROTOCOL.md §6.2): the kit's standing, chain head, pending uploads
//! and the current catalog version, for reconciliation at every sync start.

use axum::extract::{Extension, State};
use axum::response::Response;
use chrono::Utc;
use sync_protocol::api::{KitStanding, KitState};

use super::{json, AuthedKit};
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::KitStatus;

/// The most pending uploads reported.
const PENDING_LIMIT: usize = 1000;

pub async fn state(
    State(app): State<AppState>,
    Extension(authed): Extension<AuthedKit>,
) -> Result<Response, ApiError> {
    let kit = &authed.kit;
    let standing = match kit.status {
        // A kit revoked in drain or stolen mode is told nothing until its wipe: it must
        // keep pushing what it finalized (PROTOCOL.md §6.2), and a thief must not learn
        // to stop before the records arrive, flagged, at the backend.
        KitStatus::Active | KitStatus::Draining => KitStanding::Active,
        KitStatus::Quarantined => KitStanding::Quarantined,
        KitStatus::Revoked => KitStanding::Revoked,
        KitStatus::Provisioned => return Err(ApiError::UnknownKit),
    };
    let row = app.store.kit_state(&kit.kit_id, PENDING_LIMIT).await?;
    Ok(json(
        200,
        &KitState {
            kit_id: kit.kit_id,
            standing,
            head: kit.head,
            pending_uploads: row.pending_uploads,
            catalog_version: row.catalog_version,
            protocol_versions: sync_protocol::SUPPORTED_PROTOCOL_VERSIONS.to_vec(),
            server_time: Utc::now(),
        },
    ))
}
