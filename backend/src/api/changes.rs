//! `GET /v1/changes?after=<cursor>&limit=<n>` (PROTOCOL.md §6.5): the kit's feed of
//! status changes, catalog announcements, key and pin rollovers and its wipe command,
//! oldest first.
//!
//! Under protocol version 2 every entry is a DSSE envelope signed by a server key over
//! the kit id, the cursor and the change: a `server_key` rollover by the key it
//! replaces (the one the kit trusts), everything else by the key that was current when
//! the change was made or the kit enrolled, whichever is later. A request of
//! protocol version 1 gets the unsigned page of version 1 with only the kinds version 1
//! defined and a kit may act on without a signature (`status`, `catalog`); wipes and
//! rollovers are withheld from it, since it could not verify them.

use axum::extract::{Extension, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use sync_protocol::api::{Change, ChangeKind, ChangesPage};
use sync_protocol::change::{SignedChange, SignedChangesPage};

use super::decode::parse_changes_query;
use super::{json, AuthedKit};
use crate::error::ApiError;
use crate::state::AppState;

/// Whether the request was made under protocol version 1 (the guard has already
/// checked that the header names a supported version).
fn speaks_v1(headers: &HeaderMap) -> bool {
    headers
        .get(sync_protocol::PROTOCOL_HEADER)
        .is_some_and(|v| v.as_bytes() == b"1")
}

pub async fn changes(
    State(app): State<AppState>,
    Extension(authed): Extension<AuthedKit>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let query = parse_changes_query(uri.query())?;
    let (after, limit) = (query.after, query.limit);
    let kit = &authed.kit;
    // The kit's queue report (§6.5): a draining kit that has delivered everything
    // gets its wipe on this very page; a queue that stopped at a record is told to IT
    // staff (log, metric, `admin kit list`) when it is first reported.
    if let Some(outbox) = query.outbox {
        let before = kit.queue.and_then(|q| q.blocked).map(|b| (b.reason, b.seq));
        if let Some((reason, seq)) = query.blocked.filter(|&now| before != Some(now)) {
            tracing::warn!(
                kit_id = %kit.kit_id,
                reason = reason.as_str(),
                seq,
                "a kit reports its queue stopped at a record the backend misses; \
                 see the operations guide, 'blocked queue'"
            );
            app.metrics.kit_queue_blocked(reason.as_str());
        }
        app.store
            .report_queue(&kit.kit_id, outbox, query.blocked, chrono::Utc::now())
            .await?;
    }
    let (changes, more) = app.store.changes(&kit.kit_id, after, limit).await?;
    let next_cursor = changes.last().map_or(after, |c| c.cursor);
    // A key rollover from before the kit enrolled is already in the keys it got at
    // enrolment, and it could not verify it: the key that signed it was never its.
    let visible = changes.into_iter().filter(|c| {
        !matches!(c.change, ChangeKind::ServerKey { .. })
            || kit.enrolled_at.is_none_or(|enrolled| c.at >= enrolled)
    });
    if speaks_v1(&headers) {
        let changes: Vec<Change> = visible.filter(|c| c.change.known_to_v1()).collect();
        return Ok(json(
            200,
            &ChangesPage {
                changes,
                next_cursor,
                more,
            },
        ));
    }
    let mut signed = Vec::new();
    for change in visible {
        let key = match &change.change {
            ChangeKind::ServerKey { replaces, .. } => {
                app.server_key_by_id(replaces).ok_or_else(|| {
                    ApiError::Internal(format!(
                        "the server key {replaces} that must sign its rollover is not loaded"
                    ))
                })?
            }
            // The key current when the change was made (or when the kit enrolled, if
            // later): the one the kit trusts at this point of its feed.
            _ => app.server_key_at(kit.enrolled_at.map_or(change.at, |e| e.max(change.at))),
        };
        signed.push(SignedChange::new(kit.kit_id, &change).sign(&key));
    }
    Ok(json(
        200,
        &SignedChangesPage {
            changes: signed,
            next_cursor,
            more,
        },
    ))
}
