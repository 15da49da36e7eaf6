//! Case flags in the back office (PROTOCOL.md §6.3 "Flags"): the markers in the inbox,
//! the flag section of the case page, and `POST /office/cases/{record_id}/flags`, the
//! way out of each flag, recorded in the case history with the actor:
//!
//! - `forward` (needs routing, outside policy): the case moves to another authority's
//!   inbox, unassigned;
//! - `refuse` (any flag, a comment is required): the case is rejected with the comment,
//!   which the capturing kit receives like any decision;
//! - `release` (revoked kit, held): the case is worked as usual. A `held` case (from a
//!   kit reported stolen) is released only by a person other than the one who revoked
//!   the kit; until then no status change is accepted.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Extension;
use chrono::Utc;
use sync_protocol::api::CaseStatus;
use sync_protocol::ids::{AuthorityId, RecordId};

use super::error::{see_other, OfficeError};
use super::i18n::Lang;
use super::opening::own_case;
use super::views::{time, Opt};
use super::workflow::{self, CommentProblem};
use super::Ctx;
use crate::state::AppState;
use crate::storage::{CaseDetail, CaseFlag, CaseFlagRow, SessionRow};

/// The texts of flags, in German and English.
#[derive(Debug)]
#[allow(missing_docs)] // the field names say what each text is for
pub struct FlagTexts {
    pub heading: &'static str,
    pub revoked_kit: &'static str,
    pub held: &'static str,
    pub needs_routing: &'static str,
    pub outside_policy: &'static str,
    pub reason: &'static str,
    pub raised: &'static str,
    pub resolved: &'static str,
    pub open: &'static str,
    pub actions: &'static str,
    pub action: &'static str,
    pub forward: &'static str,
    pub forward_to: &'static str,
    pub refuse: &'static str,
    pub release: &'static str,
    pub comment: &'static str,
    pub comment_hint: &'static str,
    pub submit: &'static str,
    pub filter: &'static str,
    pub column: &'static str,
    pub history: &'static str,
    pub no_open_flag: &'static str,
    pub not_forwardable: &'static str,
    pub not_releasable: &'static str,
    pub unknown_authority: &'static str,
    pub refuse_needs_comment: &'static str,
    pub second_person: &'static str,
    pub held_blocks: &'static str,
    pub unknown_action: &'static str,
    pub comment_too_long: &'static str,
    pub comment_control: &'static str,
}

const DE: FlagTexts = FlagTexts {
    heading: "Hinweise zum Eingang",
    revoked_kit: "Von einem widerrufenen Koffer empfangen",
    held: "Zurückgehalten: Koffer als gestohlen gemeldet – Prüfung durch eine zweite Person",
    needs_routing: "Weiterleitung nötig: die Behörde gibt es im aktuellen Katalog nicht mehr",
    outside_policy: "Außerhalb der Weiterleitungsregeln dieser Behörde",
    reason: "Grund",
    raised: "Gesetzt am",
    resolved: "Erledigt",
    open: "offen",
    actions: "Hinweis bearbeiten",
    action: "Aktion",
    forward: "An eine andere Behörde weiterleiten",
    forward_to: "Weiterleiten an",
    refuse: "Ablehnen (mit Kommentar)",
    release: "Freigeben",
    comment: "Kommentar",
    comment_hint: "Zum Ablehnen erforderlich; keine personenbezogenen Daten.",
    submit: "Ausführen",
    filter: "Nur Vorgänge mit offenem Hinweis",
    column: "Hinweis",
    history: "Hinweis bearbeitet",
    no_open_flag: "Dieser Vorgang hat keinen offenen Hinweis.",
    not_forwardable: "Nur Vorgänge mit „Weiterleitung nötig“ oder „Außerhalb der Weiterleitungsregeln“ können weitergeleitet werden.",
    not_releasable: "Nur zurückgehaltene oder von einem widerrufenen Koffer empfangene Vorgänge können freigegeben werden.",
    unknown_authority: "Bitte wählen Sie eine andere Behörde dieses Systems.",
    refuse_needs_comment: "Zum Ablehnen ist ein Kommentar erforderlich.",
    second_person: "Zurückgehaltene Vorgänge gibt eine andere Person frei als die, die den Koffer widerrufen hat.",
    held_blocks: "Der Vorgang ist zurückgehalten; erst nach der Freigabe durch eine zweite Person kann er bearbeitet werden.",
    unknown_action: "Unbekannte Aktion.",
    comment_too_long: "Der Kommentar ist länger als 1000 Zeichen.",
    comment_control: "Der Kommentar enthält Steuerzeichen.",
};

const EN: FlagTexts = FlagTexts {
    heading: "Flags on arrival",
    revoked_kit: "Received from a revoked kit",
    held: "Held: kit reported stolen – review by a second person",
    needs_routing: "Needs routing: the authority is no longer in the current catalog",
    outside_policy: "Outside this authority's routing policy",
    reason: "Reason",
    raised: "Raised",
    resolved: "Resolved",
    open: "open",
    actions: "Resolve a flag",
    action: "Action",
    forward: "Forward to another authority",
    forward_to: "Forward to",
    refuse: "Refuse (with a comment)",
    release: "Release",
    comment: "Comment",
    comment_hint: "Required to refuse; no personal data.",
    submit: "Apply",
    filter: "Only cases with an open flag",
    column: "Flag",
    history: "Flag resolved",
    no_open_flag: "This case has no open flag.",
    not_forwardable:
        "Only cases flagged “needs routing” or “outside routing policy” can be forwarded.",
    not_releasable: "Only held cases and cases from a revoked kit can be released.",
    unknown_authority: "Please choose another authority of this system.",
    refuse_needs_comment: "Refusing needs a comment.",
    second_person: "A held case is released by a person other than the one who revoked the kit.",
    held_blocks: "The case is held; it can be worked only after a second person released it.",
    unknown_action: "Unknown action.",
    comment_too_long: "The comment is longer than 1000 characters.",
    comment_control: "The comment contains control characters.",
};

/// The flag texts of `lang`.
pub fn texts(lang: Lang) -> &'static FlagTexts {
    match lang {
        Lang::De => &DE,
        Lang::En => &EN,
    }
}

/// What a reviewer reads for a flag.
pub fn label(lang: Lang, flag: CaseFlag) -> &'static str {
    let t = texts(lang);
    match flag {
        CaseFlag::RevokedKit => t.revoked_kit,
        CaseFlag::Held => t.held,
        CaseFlag::NeedsRouting => t.needs_routing,
        CaseFlag::OutsidePolicy => t.outside_policy,
    }
}

/// A flag as the case page lists it.
#[derive(Debug)]
pub struct FlagView {
    /// The flag's name (`held`), for styling and tests.
    pub name: String,
    /// What it means.
    pub label: String,
    /// Why it was raised.
    pub reason: String,
    /// When.
    pub raised_at: String,
    /// `resolution – by – when`, or the word for open.
    pub state: String,
    /// Whether it is still open.
    pub open: bool,
}

/// The form resolving a case's open flags.
#[derive(Debug)]
pub struct FlagForm {
    /// Where it posts.
    pub action: String,
    /// Authorities to forward to; empty if no open flag is forwardable.
    pub forward_to: Vec<Opt>,
    /// Whether an open flag can be released.
    pub release: bool,
}

/// The flag section of the case page: every flag, and the form if one is open.
pub(super) async fn case_section(
    app: &AppState,
    detail: &CaseDetail,
    lang: Lang,
) -> Result<(Vec<FlagView>, Option<FlagForm>), OfficeError> {
    let t = texts(lang);
    let flags = app.store.case_flags(&detail.case.record_id).await?;
    let views = flags
        .iter()
        .map(|f| FlagView {
            name: f.flag.as_str().to_owned(),
            label: label(lang, f.flag).to_owned(),
            reason: f.reason.clone(),
            raised_at: time(f.raised_at),
            state: f.resolved.as_ref().map_or_else(
                || t.open.to_owned(),
                |r| format!("{} – {} – {}", r.resolution, r.by, time(r.at)),
            ),
            open: f.resolved.is_none(),
        })
        .collect();
    let open = open_flags(&flags);
    if open.is_empty() {
        return Ok((views, None));
    }
    let mut forward_to = Vec::new();
    if open.iter().any(|f| f.forwardable()) {
        for a in app.store.authorities().await? {
            if a.authority.id != detail.case.authority_id {
                forward_to.push(Opt {
                    value: a.authority.id.to_string(),
                    label: a.authority.name,
                    selected: false,
                });
            }
        }
    }
    let form = FlagForm {
        action: format!("/office/cases/{}/flags", detail.case.record_id),
        forward_to,
        release: open
            .iter()
            .any(|f| matches!(f, CaseFlag::Held | CaseFlag::RevokedKit)),
    };
    Ok((views, Some(form)))
}

fn open_flags(flags: &[CaseFlagRow]) -> Vec<CaseFlag> {
    flags
        .iter()
        .filter(|f| f.resolved.is_none())
        .map(|f| f.flag)
        .collect()
}

/// Whether the case is held (no status change until a second person released it).
pub(super) async fn is_held(app: &AppState, record_id: &RecordId) -> Result<bool, OfficeError> {
    Ok(open_flags(&app.store.case_flags(record_id).await?).contains(&CaseFlag::Held))
}

/// The inbox markers of a page of cases: the labels of their open flags.
pub(super) async fn markers(
    app: &AppState,
    ids: &[RecordId],
    lang: Lang,
) -> Result<HashMap<RecordId, String>, OfficeError> {
    let mut out: HashMap<RecordId, String> = HashMap::new();
    for (id, flag) in app.store.open_case_flags(ids).await? {
        let entry = out.entry(id).or_default();
        if !entry.is_empty() {
            entry.push_str("; ");
        }
        entry.push_str(label(lang, flag));
    }
    Ok(out)
}

/// `POST /office/cases/{record_id}/flags`: fields `action` (`forward`, `refuse`,
/// `release`), `to` (for `forward`) and `comment`.
pub async fn act(
    State(app): State<AppState>,
    Path(record_id): Path<String>,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    match try_act(&app, &record_id, &ctx).await {
        Ok(response) => response,
        Err(e) => ctx.error(e),
    }
}

fn comment<'a>(ctx: &'a Ctx, t: &FlagTexts) -> Result<Option<&'a str>, OfficeError> {
    let comment = ctx
        .field("comment")?
        .map(str::trim)
        .filter(|c| !c.is_empty());
    match comment.and_then(workflow::comment_problem) {
        Some(CommentProblem::TooLong) => {
            Err(OfficeError::BadRequest(vec![t.comment_too_long.to_owned()]))
        }
        Some(CommentProblem::ControlCharacters) => {
            Err(OfficeError::BadRequest(vec![t.comment_control.to_owned()]))
        }
        None => Ok(comment),
    }
}

async fn try_act(app: &AppState, record_id: &str, ctx: &Ctx) -> Result<Response, OfficeError> {
    let session = ctx.session()?;
    let t = texts(ctx.lang);
    let detail = own_case(app, session, record_id).await?;
    let id = detail.case.record_id;
    let comment = comment(ctx, t)?;
    let action = ctx.field("action")?.unwrap_or_default();
    if !matches!(action, "forward" | "refuse" | "release") {
        return Err(OfficeError::BadRequest(vec![t.unknown_action.to_owned()]));
    }
    let open = open_flags(&app.store.case_flags(&id).await?);
    if open.is_empty() {
        return Err(OfficeError::Unprocessable(vec![t.no_open_flag.to_owned()]));
    }
    let login = &session.user.login;
    let case_page = see_other(&format!("/office/cases/{id}"));
    match action {
        "forward" => {
            let to = forward_target(app, ctx, &detail, t).await?;
            let flags: Vec<CaseFlag> = open.into_iter().filter(|f| f.forwardable()).collect();
            if flags.is_empty() {
                return Err(OfficeError::Unprocessable(vec![t
                    .not_forwardable
                    .to_owned()]));
            }
            let resolution = format!("forwarded:{to}");
            if !resolve(app, session, &id, &flags, &resolution, Some(&to), comment).await? {
                return Err(OfficeError::Conflict);
            }
            tracing::info!(record_id = %id, to = %to, "flagged case forwarded");
            // The case left this inbox.
            Ok(see_other("/office/cases"))
        }
        "refuse" => {
            let Some(comment) = comment else {
                return Err(OfficeError::Unprocessable(vec![t
                    .refuse_needs_comment
                    .to_owned()]));
            };
            if !app
                .store
                .set_case_status(&id, CaseStatus::Rejected, Some(comment), login, Utc::now())
                .await?
            {
                return Err(OfficeError::NotFound);
            }
            resolve(app, session, &id, &open, "refused", None, Some(comment)).await?;
            tracing::info!(record_id = %id, "flagged case refused");
            Ok(case_page)
        }
        _ => {
            let flags: Vec<CaseFlag> = open
                .into_iter()
                .filter(|f| matches!(f, CaseFlag::Held | CaseFlag::RevokedKit))
                .collect();
            if flags.is_empty() {
                return Err(OfficeError::Unprocessable(vec![t
                    .not_releasable
                    .to_owned()]));
            }
            if flags.contains(&CaseFlag::Held) {
                let revoker = app
                    .store
                    .kit_revocation(&detail.case.kit_id)
                    .await?
                    .and_then(|r| r.revoked_by);
                if revoker.as_deref() == Some(login.as_str()) {
                    return Err(OfficeError::Unprocessable(vec![t.second_person.to_owned()]));
                }
            }
            if !resolve(app, session, &id, &flags, "released", None, comment).await? {
                return Err(OfficeError::Conflict);
            }
            tracing::info!(record_id = %id, "flagged case released");
            Ok(case_page)
        }
    }
}

async fn forward_target(
    app: &AppState,
    ctx: &Ctx,
    detail: &CaseDetail,
    t: &FlagTexts,
) -> Result<AuthorityId, OfficeError> {
    let bad = || OfficeError::BadRequest(vec![t.unknown_authority.to_owned()]);
    let to = ctx
        .field("to")?
        .and_then(|s| AuthorityId::parse(s).ok())
        .ok_or_else(bad)?;
    let served = app
        .store
        .authorities()
        .await?
        .into_iter()
        .any(|a| a.authority.id == to);
    if !served || to == detail.case.authority_id {
        return Err(bad());
    }
    Ok(to)
}

async fn resolve(
    app: &AppState,
    session: &SessionRow,
    id: &RecordId,
    flags: &[CaseFlag],
    resolution: &str,
    forward_to: Option<&AuthorityId>,
    comment: Option<&str>,
) -> Result<bool, OfficeError> {
    Ok(app
        .store
        .resolve_case_flags(
            id,
            flags,
            resolution,
            forward_to,
            comment,
            &session.user.login,
            Utc::now(),
        )
        .await?)
}
