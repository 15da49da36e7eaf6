//! What the inbox asks for (filter, order, keyset cursor) and the page it gets.

use chrono::{DateTime, Utc};
use sync_protocol::api::CaseStatus;
use sync_protocol::ids::{AuthorityId, FormId, KitId, RecordId};

use super::*;

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
        format!("{}_{}", self.received_at.timestamp_millis(), self.record_id)
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

#[cfg(test)]
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
