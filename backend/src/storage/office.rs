//! The values of the back-office part of [`super::Store`] — sessions, login throttling,
//! inbox queries and pages, case details, the case history and the decryption log —
//! and the inbox statements, built once here for both SQL dialects so that the SQLite
//! and PostgreSQL stores cannot filter or page differently.

use chrono::{DateTime, Utc};
use sync_protocol::api::CaseStatus;
use sync_protocol::ids::{AuthorityId, FormId, KitId, RecordId, Sha256Hash};

use super::{status_name, to_ms, CaseRow, UserRow};

/// A session to store (the token itself is never stored, only its SHA-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// SHA-256 of the session token the cookie carries.
    pub token_hash: [u8; 32],
    /// The user.
    pub login: String,
    /// The synchronizer token forms must echo (not a credential by itself).
    pub csrf_token: String,
    /// Now.
    pub created_at: DateTime<Utc>,
    /// Absolute end of the session.
    pub expires_at: DateTime<Utc>,
}

/// A live session with its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// The user (never disabled: a disabled user's sessions are not returned).
    pub user: UserRow,
    /// The synchronizer token of this session.
    pub csrf_token: String,
    /// When it began.
    pub created_at: DateTime<Utc>,
    /// When it ends at the latest.
    pub expires_at: DateTime<Utc>,
}

/// Failed logins counted for one login name (known or not) and client address.
pub use crate::login_throttle::LoginFailures;

/// Which way the inbox is sorted by `(received_at, record_id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InboxOrder {
    /// Oldest first: the work queue.
    #[default]
    OldestFirst,
    /// Newest first.
    NewestFirst,
}

/// Where a page of the inbox continues: the last case of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxCursor {
    /// Its `received_at`.
    pub received_at: DateTime<Utc>,
    /// Its record.
    pub record_id: RecordId,
}

impl InboxCursor {
    /// The text form used in links: `<received_at ms>_<record id>`.
    pub fn to_text(&self) -> String {
        format!("{}_{}", to_ms(self.received_at), self.record_id)
    }

    /// Parses [`InboxCursor::to_text`]'s form.
    pub fn parse(text: &str) -> Option<Self> {
        let (ms, id) = text.split_once('_')?;
        if ms.is_empty() || !ms.bytes().all(|b| b.is_ascii_digit()) || ms.len() > 15 {
            return None;
        }
        Some(Self {
            received_at: DateTime::from_timestamp_millis(ms.parse().ok()?)?,
            record_id: id.parse().ok()?,
        })
    }
}

/// Which cases of one authority to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxFilter {
    /// The authority (always the reader's own).
    pub authority_id: AuthorityId,
    /// Only this service (form).
    pub form_id: Option<FormId>,
    /// Only this status.
    pub status: Option<CaseStatus>,
    /// Only cases of this kit.
    pub kit_id: Option<KitId>,
    /// Received at or after.
    pub received_from: Option<DateTime<Utc>>,
    /// Received before.
    pub received_before: Option<DateTime<Utc>>,
    /// Only cases captured by this clerk (the record's `clerk_id`).
    pub clerk_id: Option<String>,
    /// Only cases assigned to one reviewer, or only unassigned ones.
    pub assignee: Option<AssigneeFilter>,
    /// Only cases with an open flag (revoked kit, held, needs routing, outside policy).
    pub flagged: bool,
}

/// The assignment part of an inbox filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeFilter {
    /// Assigned to this login.
    To(String),
    /// Assigned to nobody.
    Nobody,
}

/// What a case-history entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseEventKind {
    /// A workflow transition into the entry's status.
    Status,
    /// An assignment (the status is the case's status at that time).
    Assignment,
    /// A flag was resolved (forwarded, refused, released); the comment says how.
    Flag,
}

/// An attachment of a case as the back office needs it: whether its ciphertext has
/// arrived and verified, and under which content address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAttachment {
    /// The attachment.
    pub attachment_id: sync_protocol::ids::AttachmentId,
    /// Uploaded completely and checked against the manifest's ciphertext hash.
    pub complete: bool,
    /// The ciphertext hash the upload was checked against (its file name).
    pub ciphertext_sha256: Sha256Hash,
    /// The ciphertext size.
    pub ciphertext_size: u64,
}

/// One page of the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxQuery {
    /// What to list.
    pub filter: InboxFilter,
    /// Sorting.
    pub order: InboxOrder,
    /// Continue after this case.
    pub after: Option<InboxCursor>,
    /// At most this many cases.
    pub limit: u32,
    /// Whether to count the cases per status as well (the inbox page does; exports
    /// walking many pages do not).
    pub with_counts: bool,
}

/// A page of the inbox with the counts per status under the same filter (except the
/// status filter itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxPage {
    /// The cases.
    pub cases: Vec<CaseRow>,
    /// Where the next page starts, if there is one.
    pub next: Option<InboxCursor>,
    /// How many cases are in each status (statuses without cases are left out).
    pub counts: Vec<(CaseStatus, u64)>,
}

/// What the case view needs besides the case row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseDetail {
    /// The case.
    pub case: CaseRow,
    /// Its position in the kit's chain.
    pub seq: u64,
    /// The record hash.
    pub hash: Sha256Hash,
    /// The signed envelope as received.
    pub envelope_json: Vec<u8>,
    /// The server's signed receipt.
    pub receipt_json: Option<Vec<u8>>,
    /// The capturing kit's public key.
    pub kit_public_key: Option<[u8; 32]>,
    /// The kit's name given by IT staff.
    pub kit_name: String,
}

/// One entry of a case's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseEventRow {
    /// The status set.
    pub status: CaseStatus,
    /// The comment given.
    pub comment: Option<String>,
    /// Who (login).
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
    /// A transition or an assignment.
    pub kind: CaseEventKind,
    /// For an assignment: the reviewer assigned (`None`: the assignment was removed).
    pub assigned_to: Option<String>,
}

/// One decryption of a case, logged before its content is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecryptionEntry {
    /// The case.
    pub record_id: RecordId,
    /// The authority whose key opened it.
    pub authority_id: AuthorityId,
    /// Who (login).
    pub actor: String,
    /// Why (`view`).
    pub purpose: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A bind parameter of a built statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SqlArg {
    Text(String),
    Int(i64),
}

/// A statement and its parameters; `placeholder(n)` spells the n-th (1-based) one.
pub(crate) struct Built {
    pub sql: String,
    pub args: Vec<SqlArg>,
}

fn filter_sql(
    filter: &InboxFilter,
    with_status: bool,
    placeholder: fn(usize) -> String,
) -> (String, Vec<SqlArg>) {
    let mut args = vec![SqlArg::Text(filter.authority_id.to_string())];
    let mut sql = format!("c.authority_id = {}", placeholder(1));
    let mut add = |sql: &mut String, clause: &str, arg: SqlArg| {
        args.push(arg);
        sql.push_str(&format!(" AND {clause} {}", placeholder(args.len())));
    };
    if let Some(form) = &filter.form_id {
        add(&mut sql, "c.form_id =", SqlArg::Text(form.to_string()));
    }
    if let (true, Some(status)) = (with_status, filter.status) {
        add(&mut sql, "c.status =", SqlArg::Text(status_name(status)));
    }
    if let Some(kit) = &filter.kit_id {
        add(&mut sql, "c.kit_id =", SqlArg::Text(kit.to_string()));
    }
    if let Some(from) = filter.received_from {
        add(&mut sql, "c.received_at >=", SqlArg::Int(to_ms(from)));
    }
    if let Some(before) = filter.received_before {
        add(&mut sql, "c.received_at <", SqlArg::Int(to_ms(before)));
    }
    if let Some(clerk) = &filter.clerk_id {
        add(&mut sql, "c.clerk_id =", SqlArg::Text(clerk.clone()));
    }
    match &filter.assignee {
        Some(AssigneeFilter::To(login)) => {
            add(&mut sql, "c.assigned_to =", SqlArg::Text(login.clone()));
        }
        Some(AssigneeFilter::Nobody) => sql.push_str(" AND c.assigned_to IS NULL"),
        None => {}
    }
    if filter.flagged {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM case_flags f \
             WHERE f.record_id = c.record_id AND f.resolved_at IS NULL)",
        );
    }
    (sql, args)
}

/// The page statement: keyset pagination on `(received_at, record_id)`, backed by the
/// `cases_inbox_page` / `cases_inbox_status_page` indexes; one row more than the limit
/// tells whether another page follows.
pub(crate) fn inbox_page_sql(
    query: &InboxQuery,
    case_columns: &str,
    placeholder: fn(usize) -> String,
) -> Built {
    let (mut where_sql, mut args) = filter_sql(&query.filter, true, placeholder);
    let (cmp, dir) = match query.order {
        InboxOrder::OldestFirst => (">", "ASC"),
        InboxOrder::NewestFirst => ("<", "DESC"),
    };
    if let Some(after) = &query.after {
        args.push(SqlArg::Int(to_ms(after.received_at)));
        args.push(SqlArg::Text(after.record_id.to_string()));
        where_sql.push_str(&format!(
            " AND (c.received_at, c.record_id) {cmp} ({}, {})",
            placeholder(args.len() - 1),
            placeholder(args.len())
        ));
    }
    args.push(SqlArg::Int(i64::from(query.limit) + 1));
    Built {
        sql: format!(
            "SELECT {case_columns} FROM cases c JOIN records r ON r.record_id = c.record_id
             WHERE {where_sql} ORDER BY c.received_at {dir}, c.record_id {dir} LIMIT {}",
            placeholder(args.len())
        ),
        args,
    }
}

/// The counts statement: `status, count` under the filter without its status. Without
/// a filter besides authority, kit and clerk, the counts come from `case_counts` (kept by
/// triggers; one row per kit, clerk and status), so they cost the same at a million
/// cases as at ten thousand; other filters count the matching index range (grouping by
/// an expression, so that the planner picks the filter's index, not the status index).
pub(crate) fn inbox_counts_sql(filter: &InboxFilter, placeholder: fn(usize) -> String) -> Built {
    let from_counters = filter.form_id.is_none()
        && filter.received_from.is_none()
        && filter.received_before.is_none()
        && filter.assignee.is_none()
        && !filter.flagged;
    if from_counters {
        let mut args = vec![SqlArg::Text(filter.authority_id.to_string())];
        let mut sql = format!("authority_id = {}", placeholder(1));
        if let Some(kit) = &filter.kit_id {
            args.push(SqlArg::Text(kit.to_string()));
            sql.push_str(&format!(" AND kit_id = {}", placeholder(args.len())));
        }
        if let Some(clerk) = &filter.clerk_id {
            args.push(SqlArg::Text(clerk.clone()));
            sql.push_str(&format!(" AND clerk_id = {}", placeholder(args.len())));
        }
        return Built {
            sql: format!(
                "SELECT status, CAST(SUM(n) AS BIGINT) FROM case_counts WHERE {sql} \
                 GROUP BY status HAVING SUM(n) > 0 ORDER BY status"
            ),
            args,
        };
    }
    let (where_sql, args) = filter_sql(filter, false, placeholder);
    Built {
        sql: format!(
            "SELECT c.status || '' AS s, COUNT(*) FROM cases c WHERE {where_sql} \
             GROUP BY 1 ORDER BY 1"
        ),
        args,
    }
}

/// Turns `limit + 1` fetched rows into a page's cases and its continuation.
pub(crate) fn finish_page(
    mut cases: Vec<CaseRow>,
    limit: u32,
) -> (Vec<CaseRow>, Option<InboxCursor>) {
    let limit = limit as usize;
    if cases.len() <= limit {
        return (cases, None);
    }
    cases.truncate(limit);
    let next = cases.last().map(|c| InboxCursor {
        received_at: c.received_at,
        record_id: c.record_id,
    });
    (cases, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_rejects_junk() {
        let cursor = InboxCursor {
            received_at: DateTime::from_timestamp_millis(1_790_000_000_123).expect("time"),
            record_id: "0190f5c2-9a7b-7cc1-8d11-3f0a6b2e4c55".parse().expect("id"),
        };
        assert_eq!(InboxCursor::parse(&cursor.to_text()), Some(cursor));
        for junk in [
            "",
            "_",
            "12",
            "x_0190f5c2-9a7b-7cc1-8d11-3f0a6b2e4c55",
            "-1_abc",
            "1_x",
        ] {
            assert_eq!(InboxCursor::parse(junk), None, "{junk}");
        }
    }
}
