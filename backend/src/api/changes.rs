//! `GET /v1/changes?after=<cursor>&limit=<n>` (PROTOCOL.md §6.5): the kit's feed of
//! status changes, catalog announcements and its wipe command, oldest first.

use axum::extract::{Extension, State};
use axum::http::Uri;
use axum::response::Response;
use sync_protocol::api::ChangesPage;

use super::decode::parse_changes_query;
use super::{json, AuthedKit};
use crate::error::ApiError;
use crate::state::AppState;

pub async fn changes(
    State(app): State<AppState>,
    Extension(authed): Extension<AuthedKit>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let query = parse_changes_query(uri.query())?;
    let (after, limit) = (query.after, query.limit);
    // The kit's outbox report (§6.5): a draining kit that has delivered everything
    // gets its wipe on this very page.
    if let Some(outbox) = query.outbox {
        app.store
            .report_outbox(&authed.kit.kit_id, outbox, chrono::Utc::now())
            .await?;
    }
    let (changes, more) = app.store.changes(&authed.kit.kit_id, after, limit).await?;
    let next_cursor = changes.last().map_or(after, |c| c.cursor);
    Ok(json(
        200,
        &ChangesPage {
            changes,
            next_cursor,
            more,
        },
    ))
}
