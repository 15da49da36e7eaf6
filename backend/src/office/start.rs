//! The reviewer's part of the start page (`GET /office`): what waits for them in their
//! own authority — cases new since their last visit, cases assigned to them, Rückfragen
//! answered (cases back in review after "Rückfrage"), and the counts per status. Only
//! unsealed case facts (number, service, status, times): nothing is decrypted here, so
//! nothing is written to the decryption log.
//!
//! "Last visit" is the reviewer's latest entry in the decryption log or the case history
//! before the current session began ([`crate::storage::Store::last_activity`]): sessions
//! are deleted at logout, and opening or deciding a case is what a visit leaves behind.
//! Without any, the new cases are those still "Eingegangen".

use fieldkit_catalog::Catalog;
use sync_protocol::api::CaseStatus;

use super::error::OfficeError;
use super::i18n::Lang;
use super::inbox::{status_value, STATUSES};
use super::views::{time, CountView};
use crate::state::AppState;
use crate::storage::{AssigneeFilter, CaseRow, InboxFilter, InboxOrder, InboxQuery, SessionRow};

/// Cases listed per section (the inbox has the rest).
pub const LISTED: u32 = 10;

/// One case in a start-page list.
#[derive(Debug)]
pub struct StartRow {
    /// The case page.
    pub link: String,
    /// The Vorgangsnummer.
    pub case_number: String,
    /// The service's name.
    pub service: String,
    /// Received, Berlin time.
    pub received_at: String,
    /// Status in the page language.
    pub status: String,
}

/// One list of the start page.
#[derive(Debug)]
pub struct StartList {
    /// `new`, `mine`, `answered` (ids and test hooks).
    pub id: &'static str,
    /// Heading.
    pub heading: String,
    /// What the list means, e.g. since when.
    pub note: String,
    /// How many cases there are in all.
    pub total: u64,
    /// The first [`LISTED`].
    pub rows: Vec<StartRow>,
    /// The inbox showing all of them, where a filter can.
    pub more: Option<String>,
}

/// The reviewer's work.
#[derive(Debug)]
pub struct Work {
    /// New, assigned to me, Rückfragen answered.
    pub lists: Vec<StartList>,
    /// Every status with its count in the authority.
    pub counts: Vec<CountView>,
    /// Texts.
    pub t: &'static StartTexts,
}

/// The start page's texts.
#[derive(Debug)]
#[allow(missing_docs)] // the field names say what each text is for
pub struct StartTexts {
    pub heading: &'static str,
    pub new: &'static str,
    pub new_since: &'static str,
    pub new_first_visit: &'static str,
    pub mine: &'static str,
    pub mine_note: &'static str,
    pub answered: &'static str,
    pub answered_note: &'static str,
    pub counts: &'static str,
    pub none: &'static str,
    pub all_in_inbox: &'static str,
    pub of: &'static str,
}

const DE: StartTexts = StartTexts {
    heading: "Ihre Arbeit",
    new: "Neu seit Ihrem letzten Besuch",
    new_since: "Eingegangen nach",
    new_first_visit:
        "Noch keine Tätigkeit von Ihnen vermerkt: alle Vorgänge mit Status „Eingegangen“.",
    mine: "Mir zugewiesen",
    mine_note: "Offene Vorgänge (Eingegangen, In Bearbeitung, Rückfrage), älteste zuerst.",
    answered: "Rückfragen beantwortet",
    answered_note: "Nach einer Rückfrage wieder in Bearbeitung, älteste zuerst.",
    counts: "Vorgänge Ihrer Behörde nach Status",
    none: "Keine.",
    all_in_inbox: "Alle im Posteingang",
    of: "von",
};

const EN: StartTexts = StartTexts {
    heading: "Your work",
    new: "New since your last visit",
    new_since: "Received after",
    new_first_visit: "No activity of yours is recorded before this sign-in; shown are all cases with status \"Received\".",
    mine: "Assigned to me",
    mine_note: "Open cases (received, in review, needs information), oldest first.",
    answered: "Queries answered",
    answered_note: "Back in review after a query, oldest first.",
    counts: "Your authority's cases by status",
    none: "None.",
    all_in_inbox: "All in the inbox",
    of: "of",
};

fn texts(lang: Lang) -> &'static StartTexts {
    match lang {
        Lang::De => &DE,
        Lang::En => &EN,
    }
}

/// The statuses a case still needs someone's work in.
const OPEN: [CaseStatus; 3] = [
    CaseStatus::Received,
    CaseStatus::InReview,
    CaseStatus::NeedsInformation,
];

fn query(session: &SessionRow, limit: u32, order: InboxOrder) -> InboxQuery {
    InboxQuery {
        filter: InboxFilter {
            authority_id: session.user.authority_id.clone(),
            form_id: None,
            status: None,
            kit_id: None,
            received_from: None,
            received_before: None,
            clerk_id: None,
            assignee: None,
            flagged: false,
        },
        order,
        after: None,
        limit,
        with_counts: true,
    }
}

fn count(counts: &[(CaseStatus, u64)], status: CaseStatus) -> u64 {
    counts
        .iter()
        .find(|(s, _)| *s == status)
        .map_or(0, |(_, n)| *n)
}

/// The reviewer's work in their own authority.
///
/// # Errors
/// Storage errors.
pub async fn work(
    app: &AppState,
    session: &SessionRow,
    catalog: Option<&Catalog>,
    lang: Lang,
) -> Result<Work, OfficeError> {
    let t = texts(lang);
    let authority = &session.user.authority_id;
    let row = |c: &CaseRow| StartRow {
        link: format!("/office/cases/{}", c.record_id),
        case_number: sync_protocol::codes::case_number(&c.kit_id, c.seq),
        service: catalog
            .and_then(|cat| cat.service(c.form_id.as_str()).ok())
            .map_or_else(
                || c.form_id.to_string(),
                |s| lang.pick(&s.name.de, &s.name.en).to_owned(),
            ),
        received_at: time(c.received_at),
        status: lang.status(c.status).to_owned(),
    };

    // Counts per status of the whole authority (from the kept counters).
    let all = app
        .store
        .inbox_page(&query(session, 1, InboxOrder::OldestFirst))
        .await?;
    let counts = STATUSES
        .into_iter()
        .map(|s| CountView {
            label: lang.status(s).to_owned(),
            count: count(&all.counts, s),
            link: format!("/office/cases?status={}", status_value(s)),
        })
        .collect();

    // New since the last visit, newest first.
    let last = app
        .store
        .last_activity(authority, &session.user.login, session.created_at)
        .await?;
    let mut new = query(session, LISTED, InboxOrder::NewestFirst);
    let (note, more) = match last {
        Some(at) => {
            new.filter.received_from = Some(at);
            (format!("{} {}", t.new_since, time(at)), None)
        }
        None => {
            new.filter.status = Some(CaseStatus::Received);
            (
                t.new_first_visit.to_owned(),
                Some(format!(
                    "/office/cases?status={}&sort=newest",
                    status_value(CaseStatus::Received)
                )),
            )
        }
    };
    let new = app.store.inbox_page(&new).await?;
    let new_total = match last {
        Some(_) => new.counts.iter().map(|(_, n)| n).sum(),
        None => count(&all.counts, CaseStatus::Received),
    };
    let new_list = StartList {
        id: "new",
        heading: t.new.to_owned(),
        note,
        total: new_total,
        rows: new.cases.iter().map(row).collect(),
        more,
    };

    // Assigned to me and still open, oldest first: one page per open status keeps each
    // on its index; the few rows are merged by received time.
    let mut mine_rows = Vec::new();
    let mut mine_total = 0;
    for status in OPEN {
        let mut q = query(session, LISTED, InboxOrder::OldestFirst);
        q.filter.assignee = Some(AssigneeFilter::To(session.user.login.clone()));
        q.filter.status = Some(status);
        let page = app.store.inbox_page(&q).await?;
        mine_total += count(&page.counts, status);
        mine_rows.extend(page.cases);
    }
    mine_rows.sort_by_key(|c| (c.received_at, c.record_id));
    mine_rows.truncate(LISTED as usize);
    let mine = StartList {
        id: "mine",
        heading: t.mine.to_owned(),
        note: t.mine_note.to_owned(),
        total: mine_total,
        rows: mine_rows.iter().map(row).collect(),
        more: Some("/office/cases?assigned=me".to_owned()),
    };

    let answered = app.store.answered_queries(authority, LISTED).await?;
    let answered = StartList {
        id: "answered",
        heading: t.answered.to_owned(),
        note: t.answered_note.to_owned(),
        total: answered.len() as u64,
        rows: answered.iter().map(row).collect(),
        more: None,
    };
    Ok(Work {
        lists: vec![new_list, mine, answered],
        counts,
        t,
    })
}
