//! `GET /office/admin/audit`: the audit log of the reader's own authority — admin
//! events, case status changes and decryptions — newest first, filtered by person,
//! kind of entry and date range (days in Berlin), keyset pages of [`PAGE_SIZE`]. Read-only:
//! no route changes the trail, and its tables refuse UPDATE and DELETE. A bad
//! parameter is a 400 page naming it.

use crate::office::inbox::date;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::Extension;

use super::texts::action_label;
use super::views::{AuditView, EntryView};
use super::{authority_name, AdminTexts};
use crate::office::error::OfficeError;
use crate::office::i18n::Lang;
use crate::office::views::{html, time, Layout, Opt};
use crate::office::Ctx;
use crate::state::AppState;
use crate::storage::{AdminAction, AuditCursor, AuditEntry, AuditQuery, AuditSource};

/// Entries per page.
pub const PAGE_SIZE: u32 = 50;

#[derive(Debug, Default)]
struct Params {
    person: String,
    kind: String,
    from: String,
    to: String,
    after: String,
}

impl Params {
    fn link(&self, after: Option<&str>) -> String {
        let mut pairs = vec![
            ("person", self.person.as_str()),
            ("kind", self.kind.as_str()),
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
        ];
        if let Some(after) = after {
            pairs.push(("after", after));
        }
        pairs.retain(|(_, v)| !v.is_empty());
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if query.is_empty() {
            "/office/admin/audit".to_owned()
        } else {
            format!("/office/admin/audit?{query}")
        }
    }
}

fn parse_params(query: Option<&str>, lang: Lang) -> Result<Params, OfficeError> {
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
            "person" => &mut p.person,
            "kind" => &mut p.kind,
            "from" => &mut p.from,
            "to" => &mut p.to,
            "after" => &mut p.after,
            "lang" => continue,
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

fn build_query(p: &Params, ctx: &Ctx) -> Result<AuditQuery, OfficeError> {
    let lang = ctx.lang;
    let a = AdminTexts::of(lang);
    let session = ctx.session()?;
    let mut errors = Vec::new();
    let invalid =
        |label: &str| format!("{label}: {}", lang.pick("ungültiger Wert", "invalid value"));
    let sources = match p.kind.as_str() {
        "" => Vec::new(),
        k => match AuditSource::parse(k) {
            Some(s) => vec![s],
            None => {
                errors.push(invalid(a.event_kind));
                Vec::new()
            }
        },
    };
    if p.person.chars().count() > 100 {
        errors.push(invalid(a.person));
    }
    let from = date(&p.from, a.from, lang, &mut errors);
    let to = date(&p.to, a.to, lang, &mut errors);
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            errors.push(
                lang.pick(
                    "Der Zeitraum endet vor seinem Beginn.",
                    "The date range ends before it starts.",
                )
                .to_owned(),
            );
        }
    }
    let after = match p.after.as_str() {
        "" => None,
        s => AuditCursor::parse(s).or_else(|| {
            errors.push(invalid("after"));
            None
        }),
    };
    if !errors.is_empty() {
        return Err(OfficeError::BadRequest(errors));
    }
    let midnight = crate::office::local_time::day_start;
    Ok(AuditQuery {
        authority_id: session.user.authority_id.clone(),
        sources,
        actor: (!p.person.is_empty()).then(|| p.person.clone()),
        from: from.and_then(midnight),
        before: to.and_then(|d| d.succ_opt()).and_then(midnight),
        after,
        limit: PAGE_SIZE,
    })
}

fn entry_view(e: AuditEntry, lang: Lang) -> EntryView {
    let a = AdminTexts::of(lang);
    let (kind, event) = match e.source {
        AuditSource::Admin => (
            a.kind_admin,
            AdminAction::parse(&e.action)
                .map_or_else(|| e.action.clone(), |x| action_label(lang, x).to_owned()),
        ),
        AuditSource::Case => (
            a.kind_case,
            crate::office::inbox::parse_status(&e.action)
                .map_or_else(|| e.action.clone(), |s| lang.status(s).to_owned()),
        ),
        AuditSource::Decryption => (a.kind_decryption, e.action.clone()),
    };
    let global =
        e.source == AuditSource::Admin && e.action == AdminAction::CatalogPublished.as_str();
    EntryView {
        at: time(e.at),
        kind: kind.to_owned(),
        actor: e.actor,
        subject: if global {
            format!("{} {}", e.subject, a.installation_wide)
        } else {
            e.subject
        },
        event,
        detail: e.detail.unwrap_or_default(),
    }
}

/// `GET /office/admin/audit`.
pub async fn show(
    State(app): State<AppState>,
    uri: Uri,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    match try_show(&app, &uri, &ctx).await {
        Ok(r) => r,
        Err(e) => ctx.error(e),
    }
}

async fn try_show(app: &AppState, uri: &Uri, ctx: &Ctx) -> Result<Response, OfficeError> {
    let session = ctx.session()?;
    let lang = ctx.lang;
    let a = AdminTexts::of(lang);
    let params = parse_params(uri.query(), lang)?;
    let query = build_query(&params, ctx)?;
    let page = app.store.audit_page(&query).await?;
    let mut kinds = vec![Opt {
        value: String::new(),
        label: lang.texts().all.to_owned(),
        selected: params.kind.is_empty(),
    }];
    for (source, label) in [
        (AuditSource::Admin, a.kind_admin),
        (AuditSource::Case, a.kind_case),
        (AuditSource::Decryption, a.kind_decryption),
    ] {
        kinds.push(Opt {
            value: source.as_str().to_owned(),
            label: label.to_owned(),
            selected: params.kind == source.as_str(),
        });
    }
    let view = AuditView {
        layout: Layout::new(lang, Some(session)),
        a,
        authority: authority_name(app, session).await?,
        person: params.person.clone(),
        kinds,
        from: params.from.clone(),
        to: params.to.clone(),
        entries: page
            .entries
            .into_iter()
            .map(|e| entry_view(e, lang))
            .collect(),
        next_link: page.next.map(|c| params.link(Some(&c.to_text()))),
        first_link: (!params.after.is_empty()).then(|| params.link(None)),
    };
    Ok(html(StatusCode::OK, &view))
}
