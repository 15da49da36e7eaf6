//! `GET /office/cases`: the inbox of the reviewer's own authority — a case found by its
//! Vorgangsnummer or Prüfcode (`code`: straight to the case page), filters (service,
//! status, kit, capturing clerk, assignment, received date range, open flags), a marker
//! on each flagged case ([`super::flags`]), sorting, counts per status, and keyset pages of [`PAGE_SIZE`] cases; a selection form for exports. The
//! authority always comes from the session, never from the query. Every parameter is
//! validated; a bad one is a 400 page naming it. The exports
//! ([`super::export`]) take the same filter parameters.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::Extension;
use chrono::NaiveDate;
use fieldkit_catalog::Catalog;
use sync_protocol::api::CaseStatus;
use sync_protocol::codes::CaseCode;
use sync_protocol::ids::{ClerkId, FormId, KitId};

use super::error::{see_other, OfficeError};
use super::i18n::Lang;
use super::views::{html, time, CountView, InboxView, Layout, Opt, RowView};
use super::Ctx;
use crate::state::AppState;
use crate::storage::{
    AssigneeFilter, InboxCursor, InboxFilter, InboxOrder, InboxQuery, SessionRow,
};

/// Cases per page.
pub const PAGE_SIZE: u32 = 50;

/// Every case status, in workflow order.
pub const STATUSES: [CaseStatus; 6] = [
    CaseStatus::Received,
    CaseStatus::InReview,
    CaseStatus::NeedsInformation,
    CaseStatus::Approved,
    CaseStatus::Rejected,
    CaseStatus::Completed,
];

/// The stored and submitted name of a status (`in_review`).
pub fn status_value(s: CaseStatus) -> String {
    crate::storage::status_name(s)
}

/// Parses a submitted status name.
pub fn parse_status(s: &str) -> Option<CaseStatus> {
    STATUSES.into_iter().find(|st| status_value(*st) == s)
}

/// The validated query, and the raw values to show in the form again.
#[derive(Debug, Default)]
pub(super) struct Params {
    service: String,
    status: String,
    kit: String,
    clerk: String,
    assigned: String,
    from: String,
    to: String,
    sort: String,
    after: String,
    flagged: String,
}

impl Params {
    /// The filter parameters (no cursor), for links and the export form.
    pub(super) fn filter_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("service", self.service.clone()),
            ("status", self.status.clone()),
            ("kit", self.kit.clone()),
            ("clerk", self.clerk.clone()),
            ("assigned", self.assigned.clone()),
            ("from", self.from.clone()),
            ("to", self.to.clone()),
            ("sort", self.sort.clone()),
            ("flagged", self.flagged.clone()),
        ];
        pairs.retain(|(_, v)| !v.is_empty());
        pairs
    }

    /// The filter part as a query string (for links), with `extra` appended.
    fn link(&self, status: Option<&str>, after: Option<&str>) -> String {
        let mut pairs: Vec<(&str, &str)> = vec![
            ("service", &self.service),
            ("status", status.unwrap_or(&self.status)),
            ("kit", &self.kit),
            ("clerk", &self.clerk),
            ("assigned", &self.assigned),
            ("from", &self.from),
            ("to", &self.to),
            ("sort", &self.sort),
            ("flagged", &self.flagged),
        ];
        if let Some(after) = after {
            pairs.push(("after", after));
        }
        pairs.retain(|(_, v)| !v.is_empty());
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if query.is_empty() {
            "/office/cases".to_owned()
        } else {
            format!("/office/cases?{query}")
        }
    }
}

/// Parses the inbox parameters of a query; `extra` names further parameters the caller
/// takes itself (they are skipped here).
pub(super) fn parse_params(
    query: Option<&str>,
    lang: Lang,
    extra: &[&str],
) -> Result<Params, OfficeError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or_default())
        .map_err(|_| {
            OfficeError::BadRequest(vec![lang
                .pick("Ungültige Anfrage.", "Malformed query.")
                .to_owned()])
        })?;
    let mut p = Params::default();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (k, v) in pairs {
        if !seen.insert(k.clone()) {
            errors.push(format!(
                "{k}: {}",
                lang.pick("mehrfach angegeben", "given more than once")
            ));
            continue;
        }
        let slot = match k.as_str() {
            "service" => &mut p.service,
            "status" => &mut p.status,
            "kit" => &mut p.kit,
            "clerk" => &mut p.clerk,
            "assigned" => &mut p.assigned,
            "from" => &mut p.from,
            "to" => &mut p.to,
            "sort" => &mut p.sort,
            "after" => &mut p.after,
            "flagged" => &mut p.flagged,
            "lang" => continue,
            other if extra.contains(&other) => continue,
            other => {
                let other: String = other.chars().take(40).collect();
                errors.push(format!(
                    "{other}: {}",
                    lang.pick("unbekannter Parameter", "unknown parameter")
                ));
                continue;
            }
        };
        *slot = v.trim().to_owned();
    }
    if errors.is_empty() {
        Ok(p)
    } else {
        Err(OfficeError::BadRequest(errors))
    }
}

/// A `YYYY-MM-DD` filter value; a wrong one adds a message to `errors`.
pub(crate) fn date(
    value: &str,
    label: &str,
    lang: Lang,
    errors: &mut Vec<String>,
) -> Option<NaiveDate> {
    if value.is_empty() {
        return None;
    }
    let parsed = super::local_time::parse_day(value);
    if parsed.is_none() {
        errors.push(format!(
            "{label}: {}",
            lang.pick(
                "kein gültiges Datum (TT.MM.JJJJ)",
                "not a valid date (DD.MM.YYYY)"
            )
        ));
    }
    parsed
}

/// The store query for validated parameters; 400 naming every bad value.
pub(super) fn build_query(
    p: &Params,
    ctx: &Ctx,
    catalog: Option<&Catalog>,
    session: &SessionRow,
) -> Result<InboxQuery, OfficeError> {
    let authority = &session.user.authority_id;
    let (lang, t) = (ctx.lang, ctx.lang.texts());
    let mut errors = Vec::new();
    let bad = |label: &str, errors: &mut Vec<String>| {
        errors.push(format!(
            "{label}: {}",
            lang.pick("ungültiger Wert", "invalid value")
        ));
    };
    let form_id = match p.service.as_str() {
        "" => None,
        s => match FormId::parse(s) {
            Ok(id) if catalog.is_none_or(|c| c.service(s).is_ok()) => Some(id),
            _ => {
                bad(t.service, &mut errors);
                None
            }
        },
    };
    let status = match p.status.as_str() {
        "" => None,
        s => parse_status(s).or_else(|| {
            bad(t.status, &mut errors);
            None
        }),
    };
    let kit_id = match p.kit.as_str() {
        "" => None,
        s => s.parse::<KitId>().ok().or_else(|| {
            bad(t.kit, &mut errors);
            None
        }),
    };
    let w = super::casework_texts::texts(lang);
    let clerk_id = match p.clerk.as_str() {
        "" => None,
        s => match ClerkId::parse(s) {
            Ok(c) => Some(c.as_str().to_owned()),
            Err(_) => {
                bad(w.clerk, &mut errors);
                None
            }
        },
    };
    let assignee = match p.assigned.as_str() {
        "" => None,
        "me" => Some(AssigneeFilter::To(session.user.login.clone())),
        "none" => Some(AssigneeFilter::Nobody),
        _ => {
            bad(w.assigned_filter, &mut errors);
            None
        }
    };
    let from = date(&p.from, t.received_from, lang, &mut errors);
    let to = date(&p.to, t.received_to, lang, &mut errors);
    if let (Some(f), Some(to)) = (from, to) {
        if f > to {
            errors.push(
                lang.pick(
                    "Der Zeitraum endet vor seinem Beginn.",
                    "The date range ends before it starts.",
                )
                .to_owned(),
            );
        }
    }
    let order = match p.sort.as_str() {
        "" | "oldest" => InboxOrder::OldestFirst,
        "newest" => InboxOrder::NewestFirst,
        _ => {
            bad(t.sort, &mut errors);
            InboxOrder::OldestFirst
        }
    };
    let flagged = match p.flagged.as_str() {
        "" => false,
        "1" => true,
        _ => {
            bad(super::flags::texts(lang).filter, &mut errors);
            false
        }
    };
    let after = match p.after.as_str() {
        "" => None,
        s => InboxCursor::parse(s).or_else(|| {
            bad("after", &mut errors);
            None
        }),
    };
    if !errors.is_empty() {
        return Err(OfficeError::BadRequest(errors));
    }
    let midnight = super::local_time::day_start;
    Ok(InboxQuery {
        filter: InboxFilter {
            authority_id: authority.clone(),
            form_id,
            status,
            kit_id,
            received_from: from.and_then(midnight),
            received_before: to.and_then(|d| d.succ_opt()).and_then(midnight),
            clerk_id,
            assignee,
            flagged,
        },
        order,
        after,
        limit: PAGE_SIZE,
        with_counts: true,
    })
}

fn service_name(catalog: Option<&Catalog>, form: &str, lang: Lang) -> String {
    catalog.and_then(|c| c.service(form).ok()).map_or_else(
        || form.to_owned(),
        |s| lang.pick(&s.name.de, &s.name.en).to_owned(),
    )
}

fn assigned_options(lang: Lang, chosen: &str) -> Vec<Opt> {
    let w = super::casework_texts::texts(lang);
    [
        ("", w.assigned_any),
        ("me", w.assigned_me),
        ("none", w.assigned_nobody),
    ]
    .into_iter()
    .map(|(value, label)| Opt {
        value: value.to_owned(),
        label: label.to_owned(),
        selected: chosen == value,
    })
    .collect()
}

/// `GET /office/cases`.
pub async fn inbox(
    State(app): State<AppState>,
    uri: Uri,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    match try_inbox(&app, &uri, &ctx).await {
        Ok(response) => response,
        Err(e) => ctx.error(e),
    }
}

/// The typed `code` of a query, if any (the inbox's "find a case" field).
fn typed_code(query: Option<&str>) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query.unwrap_or_default())
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.trim().chars().take(64).collect())
        .filter(|v: &String| !v.is_empty())
}

async fn try_inbox(app: &AppState, uri: &Uri, ctx: &Ctx) -> Result<Response, OfficeError> {
    let session = ctx.session()?;
    let (lang, t) = (ctx.lang, ctx.lang.texts());
    let w = super::casework_texts::texts(lang);
    let params = parse_params(uri.query(), lang, &["code"])?;
    let code = typed_code(uri.query());
    let mut not_found = None;
    if let Some(typed) = &code {
        let Some(parsed) = CaseCode::parse(typed) else {
            return Err(OfficeError::BadRequest(vec![format!(
                "{}: {}",
                w.code, w.code_invalid
            )]));
        };
        match app
            .store
            .find_case_by_code(&session.user.authority_id, &parsed)
            .await?
        {
            Some(id) => return Ok(see_other(&format!("/office/cases/{id}"))),
            None => not_found = Some(format!("{}: {typed}", w.code_not_found)),
        }
    }
    let catalog: Option<Arc<Catalog>> = app
        .catalog
        .current(app.store.as_ref(), &app.server_verifying_keys())
        .await
        .map_err(|e| OfficeError::Internal(e.to_string()))?;
    let catalog = catalog.as_deref();
    let authority = &session.user.authority_id;
    let query = build_query(&params, ctx, catalog, session)?;
    let page = app.store.inbox_page(&query).await?;
    let all = |value: &str, selected: bool| Opt {
        value: value.to_owned(),
        label: t.all.to_owned(),
        selected,
    };
    let mut services = vec![all("", params.service.is_empty())];
    for s in catalog.map(|c| c.services.as_slice()).unwrap_or_default() {
        services.push(Opt {
            value: s.id.to_string(),
            label: lang.pick(&s.name.de, &s.name.en).to_owned(),
            selected: params.service == s.id.as_str(),
        });
    }
    let mut statuses = vec![all("", params.status.is_empty())];
    let mut counts = Vec::new();
    for s in STATUSES {
        let value = status_value(s);
        counts.push(CountView {
            label: lang.status(s).to_owned(),
            count: page
                .counts
                .iter()
                .find(|(st, _)| *st == s)
                .map_or(0, |(_, n)| *n),
            link: params.link(Some(&value), None),
        });
        statuses.push(Opt {
            selected: params.status == value,
            label: lang.status(s).to_owned(),
            value,
        });
    }
    let sorts = vec![
        Opt {
            value: "oldest".into(),
            label: t.oldest_first.into(),
            selected: params.sort != "newest",
        },
        Opt {
            value: "newest".into(),
            label: t.newest_first.into(),
            selected: params.sort == "newest",
        },
    ];
    let ids: Vec<_> = page.cases.iter().map(|c| c.record_id).collect();
    let mut markers = super::flags::markers(app, &ids, lang).await?;
    let rows = page
        .cases
        .iter()
        .map(|c| {
            let id = c.record_id.to_string();
            RowView {
                link: format!("/office/cases/{id}"),
                case_number: sync_protocol::codes::case_number(&c.kit_id, c.seq),
                received_at: time(c.received_at),
                service: service_name(catalog, c.form_id.as_str(), lang),
                status: lang.status(c.status).to_owned(),
                kit: c.kit_id.to_string(),
                clerk: c.clerk_id.clone().unwrap_or_default(),
                assignee: c.assigned_to.clone().unwrap_or_default(),
                flags: markers.remove(&c.record_id).unwrap_or_default(),
                id,
            }
        })
        .collect();
    let authority_name = app
        .store
        .authorities()
        .await?
        .into_iter()
        .find(|a| &a.authority.id == authority)
        .map_or_else(|| authority.to_string(), |a| a.authority.name);
    let view = InboxView {
        layout: Layout::new(lang, Some(session)),
        authority: authority_name,
        services,
        statuses,
        sorts,
        kit: params.kit.clone(),
        clerk: params.clerk.clone(),
        assigned: assigned_options(lang, &params.assigned),
        export_fields: params
            .filter_pairs()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        export_versions: super::export::export_versions(catalog, &params.service, lang),
        w: super::casework_texts::texts(lang),
        from: params.from.clone(),
        to: params.to.clone(),
        counts,
        rows,
        next_link: page.next.map(|c| params.link(None, Some(&c.to_text()))),
        first_link: (!params.after.is_empty()).then(|| params.link(None, None)),
        flagged: params.flagged == "1",
        ft: super::flags::texts(lang),
        code: code.unwrap_or_default(),
        not_found,
    };
    Ok(html(StatusCode::OK, &view))
}
