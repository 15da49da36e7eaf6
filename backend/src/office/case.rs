//! One case: `GET /office/cases/{record_id}` opens it for a reviewer of the responsible
//! authority (with its flags, [`super::flags`]) — laid out as a reviewer works: codes,
//! status, decision and assignment first, then the form data, attachments (labelled
//! from the catalog) and history, the technical evidence folded away; `?print=1` is the
//! same case as a print view (no navigation, no forms). `POST …/status` moves it along
//! the workflow (not while it is held for a second person's review); a decision that
//! cannot be saved shows the case page again with the errors and the reviewer's input.
//!
//! Opening a case, in this order: the case must belong to the reviewer's authority (a
//! foreign or unknown id is the same 404); the kit's signature over the stored record
//! is verified again (a record that no longer verifies is not opened); the decryption is
//! written to the append-only decryption log — if that fails, nothing is decrypted; only
//! then the authority's sealed HPKE key is opened with the master key and the case with
//! it (`sync_protocol::seal::open`, the record's identity as associated data). The
//! plaintext lives only in this request and is never logged.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::Extension;
use chrono::Utc;
use fieldkit_catalog::Catalog;
use sync_protocol::dsse::Envelope;
use sync_protocol::receipt::Receipt;
use sync_protocol::record::RecordKind;

use super::assign;
use super::attachment::attachment_views;
use super::error::{see_other, OfficeError};
use super::form_view::{self, Section};
use super::inbox::{parse_status, status_value};
use super::opening::{own_case, switch_requested, verified_record, Opener, Purpose};
use super::views::{html, time, CasePage, DecisionInput, EventView, Layout, Opt, RelatedCase};
use super::workflow::{self, CommentProblem};
use super::Ctx;
use crate::state::AppState;
use crate::storage::CaseEventKind;

/// `GET /office/cases/{record_id}`.
pub async fn view(
    State(app): State<AppState>,
    Path(record_id): Path<String>,
    uri: Uri,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    let shown = async {
        let print = switch_requested(&uri, "print", ctx.lang)?;
        render(
            &app,
            &record_id,
            &ctx,
            print,
            DecisionInput::default(),
            StatusCode::OK,
        )
        .await
    };
    match shown.await {
        Ok(response) => response,
        Err(e) => ctx.error(e),
    }
}

/// The case page (or its print view), with the decision form showing `decision`.
async fn render(
    app: &AppState,
    record_id: &str,
    ctx: &Ctx,
    print: bool,
    decision: DecisionInput,
    status: StatusCode,
) -> Result<Response, OfficeError> {
    let session = ctx.session()?;
    let (lang, t) = (ctx.lang, ctx.lang.texts());
    let detail = own_case(app, session, record_id).await?;
    let catalog = app
        .catalog
        .current(app.store.as_ref(), &app.server_verifying_keys())
        .await
        .map_err(|e| OfficeError::Internal(e.to_string()))?;
    let service = catalog
        .as_deref()
        .and_then(|c: &Catalog| c.service(detail.case.form_id.as_str()).ok());
    let record = verified_record(&detail);
    let receipt = detail
        .receipt_json
        .as_deref()
        .and_then(|r| Envelope::from_json(r).ok())
        .and_then(|env| Receipt::verify(&env, &app.server_verifying_keys()).ok())
        .filter(|r| r.record_id == detail.case.record_id && r.record_hash == detail.hash);
    let mut evidence = vec![
        (
            t.signature.to_owned(),
            if record.is_some() {
                t.signature_ok
            } else {
                t.signature_bad
            }
            .to_owned(),
        ),
        (
            t.receipt.to_owned(),
            if receipt.is_some() {
                t.receipt_ok
            } else {
                t.receipt_bad
            }
            .to_owned(),
        ),
        (
            t.kit.to_owned(),
            format!("{} ({})", detail.case.kit_id, detail.kit_name),
        ),
        (t.chain_position.to_owned(), detail.seq.to_string()),
        (
            t.log_position.to_owned(),
            detail.case.log_position.to_string(),
        ),
        (t.server_time.to_owned(), time(detail.case.received_at)),
    ];
    let (mut sections, mut form_known, mut attachments) =
        (Vec::<Section>::new(), false, Vec::new());
    if let Some(record) = &record {
        let r = &record.record;
        let skew = (detail.case.received_at - r.device_time).num_seconds();
        evidence.push((t.device_time.to_owned(), time(r.device_time)));
        evidence.push((t.clock_skew.to_owned(), format!("{skew} s")));
        evidence.push((t.visit_date.to_owned(), r.visit_date.to_string()));
        let purpose = if print { Purpose::Print } else { Purpose::View };
        let case = Opener::new(app, session).open(record, purpose).await?;
        let answer = (r.kind == RecordKind::Supplement)
            .then(|| case.form_data.get("answer").and_then(|a| a.as_str()))
            .flatten();
        match service.and_then(|s| s.form(r.form_version)) {
            // An answer to a Rückfrage has a note, not the service's form.
            _ if answer.is_some() => {
                form_known = true;
                sections = vec![Section {
                    heading: None,
                    level: 3,
                    fields: vec![(
                        super::casework_texts::texts(lang).answer.to_owned(),
                        answer.unwrap_or_default().to_owned(),
                    )],
                }];
            }
            Some(form) => {
                form_known = true;
                sections = form_view::render(&form.ui, &case.form_data, lang);
            }
            None => sections = form_view::render(&serde_json::Value::Null, &case.form_data, lang),
        }
        let stored = app.store.case_attachments(&r.record_id).await?;
        attachments = attachment_views(lang, service, r, &case, &stored);
    }
    let events = app
        .store
        .case_events(&detail.case.record_id)
        .await?
        .into_iter()
        .map(|e| EventView {
            at: time(e.at),
            status: match e.kind {
                CaseEventKind::Status => lang.status(e.status).to_owned(),
                CaseEventKind::Assignment => assign::event_text(lang, e.assigned_to.as_deref()),
                CaseEventKind::Flag => super::flags::texts(lang).history.to_owned(),
            },
            actor: e.actor,
            comment: e.comment.unwrap_or_default(),
        })
        .collect();
    // An answer to a Rückfrage is decided with the case it belongs to.
    let decided_elsewhere = detail.case.kind == RecordKind::Supplement;
    let next = workflow::next(detail.case.status)
        .iter()
        .filter(|_| !decided_elsewhere)
        .map(|s| {
            let value = status_value(*s);
            Opt {
                selected: value == decision.status,
                label: lang.status(*s).to_owned(),
                value,
            }
        })
        .collect();
    let (flags, flag_form) = super::flags::case_section(app, &detail, lang).await?;
    let (belongs_to, related) = related_cases(app, session, &detail, lang).await?;
    let id = detail.case.record_id.to_string();
    let mut layout = Layout::new(lang, Some(session));
    layout.bare = print;
    let print_link = format!("/office/cases/{id}?print=1");
    let page = CasePage {
        layout,
        service: service.map_or_else(
            || detail.case.form_id.to_string(),
            |s| lang.pick(&s.name.de, &s.name.en).to_owned(),
        ),
        status: lang.status(detail.case.status).to_owned(),
        evidence,
        signature_ok: record.is_some(),
        form_known,
        sections,
        attachments,
        events,
        next,
        action: format!("/office/cases/{id}/status"),
        assignment: assign::view(app, session, &detail.case, lang).await?,
        w: super::casework_texts::texts(lang),
        record_id: id,
        case_number: sync_protocol::codes::case_number(&detail.case.kit_id, detail.seq),
        verification_code: sync_protocol::codes::verification_code(&detail.hash),
        flags,
        flag_form,
        ft: super::flags::texts(lang),
        decision,
        print_link,
        belongs_to,
        related,
        decided_elsewhere,
    };
    Ok(html(status, &page))
}

/// The case a correction, withdrawal or answer belongs to, and the ones that belong to
/// this case — only within the reviewer's authority.
async fn related_cases(
    app: &AppState,
    session: &crate::storage::SessionRow,
    detail: &crate::storage::CaseDetail,
    lang: super::Lang,
) -> Result<(Option<RelatedCase>, Vec<RelatedCase>), OfficeError> {
    let view = |c: &crate::storage::CaseRow| {
        let w = super::casework_texts::texts(lang);
        RelatedCase {
            kind: match c.kind {
                RecordKind::Application => w.kind_application,
                RecordKind::Correction => w.kind_correction,
                RecordKind::Withdrawal => w.kind_withdrawal,
                RecordKind::Supplement => w.kind_supplement,
            }
            .to_owned(),
            case_number: sync_protocol::codes::case_number(&c.kit_id, c.seq),
            link: format!("/office/cases/{}", c.record_id),
            received: time(c.received_at),
            status: lang.status(c.status).to_owned(),
        }
    };
    let belongs_to = match &detail.case.references {
        Some(original) => match own_case(app, session, &original.to_string()).await {
            Ok(d) => Some(RelatedCase {
                kind: view(&detail.case).kind,
                ..view(&d.case)
            }),
            Err(OfficeError::NotFound) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    let related = app
        .store
        .related_cases(&detail.case.record_id, &session.user.authority_id)
        .await?
        .iter()
        .map(view)
        .collect();
    Ok((belongs_to, related))
}

/// `POST /office/cases/{record_id}/status`: fields `status` and `comment`. A decision
/// that is refused (bad or missing input, a transition not allowed, a held case, a
/// concurrent change) answers with the case page again — same status code as before —
/// showing the errors above the decision form, which keeps the chosen status and the
/// comment as typed.
pub async fn set_status(
    State(app): State<AppState>,
    Path(record_id): Path<String>,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    let refused = match try_set_status(&app, &record_id, &ctx).await {
        Ok(response) => return response,
        Err(e) => e,
    };
    let (status, errors) = match &refused {
        OfficeError::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
        OfficeError::Unprocessable(m) => (StatusCode::UNPROCESSABLE_ENTITY, m.clone()),
        OfficeError::Conflict => (
            StatusCode::CONFLICT,
            vec![ctx
                .lang
                .pick(
                    "Der Vorgang wurde inzwischen von jemand anderem geändert; bitte prüfen Sie den aktuellen Stand.",
                    "Someone else changed the case meanwhile; please check its current state.",
                )
                .to_owned()],
        ),
        // Not found, forbidden, internal: the error page as before.
        _ => return ctx.error(refused),
    };
    let first = |name: &str| {
        ctx.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let decision = DecisionInput {
        status: first("status"),
        comment: first("comment"),
        errors,
    };
    match render(&app, &record_id, &ctx, false, decision, status).await {
        Ok(response) => response,
        Err(_) => ctx.error(refused),
    }
}

async fn try_set_status(
    app: &AppState,
    record_id: &str,
    ctx: &Ctx,
) -> Result<Response, OfficeError> {
    let session = ctx.session()?;
    let lang = ctx.lang;
    let detail = own_case(app, session, record_id).await?;
    let mut errors = Vec::new();
    let to = match ctx.field("status")?.map(|s| (s, parse_status(s))) {
        Some((_, Some(to))) => Some(to),
        Some((_, None)) => {
            errors.push(
                lang.pick("Unbekannter Status.", "Unknown status.")
                    .to_owned(),
            );
            None
        }
        None => {
            errors.push(
                lang.pick("Bitte wählen Sie einen Status.", "Please choose a status.")
                    .to_owned(),
            );
            None
        }
    };
    let comment = ctx
        .field("comment")?
        .map(str::trim)
        .filter(|c| !c.is_empty());
    match comment.and_then(workflow::comment_problem) {
        Some(CommentProblem::TooLong) => errors.push(
            lang.pick(
                "Der Kommentar ist länger als 1000 Zeichen.",
                "The comment is longer than 1000 characters.",
            )
            .to_owned(),
        ),
        Some(CommentProblem::ControlCharacters) => errors.push(
            lang.pick(
                "Der Kommentar enthält Steuerzeichen.",
                "The comment contains control characters.",
            )
            .to_owned(),
        ),
        None => {}
    }
    if !errors.is_empty() {
        return Err(OfficeError::BadRequest(errors));
    }
    let Some(to) = to else {
        return Err(OfficeError::BadRequest(errors));
    };
    if super::flags::is_held(app, &detail.case.record_id).await? {
        return Err(OfficeError::Unprocessable(vec![super::flags::texts(lang)
            .held_blocks
            .to_owned()]));
    }
    if detail.case.kind == RecordKind::Supplement {
        return Err(OfficeError::Unprocessable(vec![
            super::casework_texts::texts(lang)
                .decided_on_original
                .to_owned(),
        ]));
    }
    let from = detail.case.status;
    if !workflow::allowed(from, to) {
        return Err(OfficeError::Unprocessable(vec![format!(
            "{}: {} → {}",
            lang.pick(
                "Dieser Statuswechsel ist nicht vorgesehen",
                "This status change is not allowed"
            ),
            lang.status(from),
            lang.status(to)
        )]));
    }
    if workflow::needs_comment(to) && comment.is_none() {
        return Err(OfficeError::Unprocessable(vec![lang
            .pick(
                "Für diesen Status ist ein Kommentar erforderlich.",
                "This status needs a comment.",
            )
            .to_owned()]));
    }
    let moved = app
        .store
        .transition_case(
            &detail.case.record_id,
            from,
            to,
            comment,
            &session.user.login,
            Utc::now(),
        )
        .await?;
    if !moved {
        return Err(OfficeError::Conflict);
    }
    tracing::info!(record_id = %detail.case.record_id, status = %status_value(to), "case status changed");
    Ok(see_other(&format!(
        "/office/cases/{}",
        detail.case.record_id
    )))
}
