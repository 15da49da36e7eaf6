//! The kits page: the authority's kits with state, last contact, chain head and the
//! queue each last reported (a blocked one marked, with what to do);
//! provisioning (answered once with the one-time code, the provisioning file and its
//! QR code); revocation with a reason after a confirmation page that offers *drain
//! then wipe* (default), *stolen* and *wipe now* — the last only when the operator types
//! the number of undelivered applications the kit last reported, which the page shows.
//! Provisioning and revocation are [`crate::admin::kit`]'s, so the CLI and the page
//! store, hash and audit alike.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use base64::Engine as _;
use sync_protocol::ids::KitId;

use super::views::{KitView, KitsPage, ProvisionedPage, RevokePage};
use super::{admin_for, authority_name, failed, or_dash, qr, texts, AdminTexts};
use crate::admin::kit::{self as admin_kit, Out, ProvisionArgs};
use crate::admin::AdminError;
use crate::office::error::{see_other, OfficeError};
use crate::office::i18n::Lang;
use crate::office::views::{html, Layout};
use crate::office::Ctx;
use crate::state::AppState;
use crate::storage::{KitRow, KitStatus, RevocationMode};

/// The longest kit name (bytes), as the CLI checks it.
const MAX_NAME_BYTES: usize = 128;
/// The longest revocation reason (characters).
pub const MAX_REASON_CHARS: usize = 500;

async fn page(
    app: &AppState,
    ctx: &Ctx,
    name: String,
    errors: Vec<String>,
) -> Result<Response, OfficeError> {
    let session = ctx.session()?;
    let lang = ctx.lang;
    let a = AdminTexts::of(lang);
    let admin = admin_for(app, session)?;
    let own = session.user.authority_id.to_string();
    let kits = admin_kit::list(&admin)
        .await
        .map_err(failed)?
        .into_iter()
        .filter(|k| k.authority_id == own)
        .map(|k| KitView {
            queue: texts::kit_queue_label(lang, &k),
            queue_blocked: k.blocked.is_some(),
            revoke_link: (k.state != "revoked")
                .then(|| format!("/office/admin/kits/{}/revoke", k.kit_id)),
            name: k.name,
            kit_id: k.kit_id.to_string(),
            state: texts::kit_state_label(lang, &k.state),
            state_class: k.state,
            last_seen: or_dash(k.last_seen_at, lang),
            last_seq: or_dash(k.last_seq.map(|s| s.to_string()), lang),
            enrolled_at: or_dash(k.enrolled_at, lang),
            revoked_reason: k.revoked_reason.unwrap_or_default(),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = KitsPage {
        layout: Layout::new(lang, Some(session)),
        a,
        authority: authority_name(app, session).await?,
        kits,
        name,
        errors,
    };
    Ok(html(status, &view))
}

/// `GET /office/admin/kits`.
pub async fn list(State(app): State<AppState>, Extension(ctx): Extension<Ctx>) -> Response {
    page(&app, &ctx, String::new(), Vec::new())
        .await
        .unwrap_or_else(|e| ctx.error(e))
}

/// `POST /office/admin/kits`: provisions a kit of the user's authority.
pub async fn provision(State(app): State<AppState>, Extension(ctx): Extension<Ctx>) -> Response {
    match try_provision(&app, &ctx).await {
        Ok(r) => r,
        Err(e) => ctx.error(e),
    }
}

async fn try_provision(app: &AppState, ctx: &Ctx) -> Result<Response, OfficeError> {
    let session = ctx.session()?;
    let lang = ctx.lang;
    let raw = ctx.field("name")?.unwrap_or_default().to_owned();
    let name = raw.trim();
    if name.is_empty() || name.len() > MAX_NAME_BYTES {
        let message = lang.pick(
            "Bitte geben Sie dem Koffer einen Namen mit 1 bis 128 Zeichen.",
            "Please give the kit a name of 1 to 128 characters.",
        );
        let shown = raw.chars().take(MAX_NAME_BYTES).collect();
        return page(app, ctx, shown, vec![message.to_owned()]).await;
    }
    let settings = app.provisioning.get().cloned().unwrap_or_default();
    let admin = admin_for(app, session)?;
    let authority = session.user.authority_id.to_string();
    let provisioned = admin_kit::provision(
        &admin,
        ProvisionArgs {
            authority: &authority,
            name,
            backend_url: &app.public_base_url,
            tls_cert: settings.tls_cert.as_deref(),
            insecure_allow_plain_http: false,
            code_ttl: settings.code_ttl,
            out: Out::Nowhere,
        },
    )
    .await;
    let provisioned = match provisioned {
        Ok(p) => p,
        Err(AdminError::Invalid(why)) => {
            // The server's configuration, not the input: e.g. https without a certificate
            // to pin (behind a TLS proxy). The CLI can be given the certificate.
            let message = format!(
                "{} ({why})",
                lang.pick(
                    "Mit dieser Serverkonfiguration kann hier kein Koffer bereitgestellt \
                     werden; nutzen Sie die Kommandozeile mit --tls-cert",
                    "This server's configuration does not allow provisioning here; use the \
                     command line with --tls-cert",
                )
            );
            return page(app, ctx, name.to_owned(), vec![message]).await;
        }
        Err(e) => return Err(failed(e)),
    };
    tracing::info!(kit_id = %provisioned.kit_id, "kit provisioned in the back office");
    // Exactly what the CLI writes (`admin kit provision --out`).
    let mut pretty = serde_json::to_vec_pretty(&provisioned.provisioning)
        .map_err(|e| OfficeError::Internal(e.to_string()))?;
    pretty.push(b'\n');
    // The QR code carries the same file, compact (fewer modules, same content).
    let compact = serde_json::to_vec(&provisioned.provisioning)
        .map_err(|e| OfficeError::Internal(e.to_string()))?;
    let a = AdminTexts::of(lang);
    let qr_svg = qr::svg(&compact, a.qr_title).map_err(|e| OfficeError::Internal(e.to_string()))?;
    let view = ProvisionedPage {
        layout: Layout::new(lang, Some(session)),
        a,
        name: name.to_owned(),
        kit_id: provisioned.kit_id.to_string(),
        code: provisioned.code.clone(),
        code_expires_at: provisioned.code_expires_at.clone(),
        qr_svg,
        file_href: format!(
            "data:application/json;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&pretty)
        ),
        file_json: String::from_utf8_lossy(&pretty).into_owned(),
        file_name: format!("{}.json", provisioned.kit_id),
    };
    Ok(html(StatusCode::OK, &view))
}

/// The kit of the path if it belongs to the user's authority (else 404, like an
/// unknown one).
async fn own_kit(app: &AppState, ctx: &Ctx, kit_id: &str) -> Result<KitRow, OfficeError> {
    let session = ctx.session()?;
    let id: KitId = kit_id.parse().map_err(|_| OfficeError::NotFound)?;
    app.store
        .kit(&id)
        .await?
        .filter(|k| k.authority_id == session.user.authority_id)
        .ok_or(OfficeError::NotFound)
}

fn modes(lang: Lang, chosen: RevocationMode) -> Vec<(String, String, String, bool)> {
    [
        (
            RevocationMode::Drain,
            lang.pick("Ausliefern lassen, dann löschen", "Drain, then wipe"),
            lang.pick(
                "Der Koffer liefert noch aus, was abgeschlossen ist (im Posteingang markiert:                  „Von einem widerrufenen Koffer empfangen“); gelöscht wird er, sobald er                  nichts mehr zu senden meldet.",
                "The kit still delivers what it finalized (flagged in the inbox as                  “received from a revoked kit”); it is wiped once it reports nothing left                  to send.",
            ),
        ),
        (
            RevocationMode::Stolen,
            lang.pick("Gestohlen", "Stolen"),
            lang.pick(
                "Wie oben, aber alles, was danach eintrifft, wird zurückgehalten, bis eine                  zweite Person es prüft.",
                "As above, but everything arriving from now on is held until a second                  person reviews it.",
            ),
        ),
        (
            RevocationMode::WipeNow,
            lang.pick("Sofort löschen", "Wipe now"),
            lang.pick(
                "Löscht den Koffer beim nächsten Kontakt, auch was er nicht ausgeliefert                  hat. Nur mit Bestätigung der unten genannten Zahl.",
                "Wipes the kit at its next contact, including what it has not delivered.                  Only with the number below confirmed.",
            ),
        ),
    ]
    .into_iter()
    .map(|(mode, label, hint)| {
        (
            mode.as_str().to_owned(),
            label.to_owned(),
            hint.to_owned(),
            mode == chosen,
        )
    })
    .collect()
}

fn undelivered_text(lang: Lang, last: u64, at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    match at {
        Some(at) => format!(
            "{} {last} ({} {})",
            lang.pick(
                "Nicht ausgelieferte Anträge laut letzter Meldung des Koffers:",
                "Undelivered applications the kit last reported:"
            ),
            lang.pick("gemeldet", "reported"),
            crate::office::views::time(at)
        ),
        None => lang
            .pick(
                "Der Koffer hat noch nie gemeldet, was er nicht ausgeliefert hat (0                  bestätigen heißt: Unbekanntes wird gelöscht).",
                "The kit never reported what it has not delivered (confirming 0 means:                  whatever it holds is wiped).",
            )
            .to_owned(),
    }
}

async fn revoke_page(
    app: &AppState,
    ctx: &Ctx,
    kit: &KitRow,
    reason: String,
    errors: Vec<String>,
    chosen: RevocationMode,
) -> Result<Response, OfficeError> {
    let session = ctx.session()?;
    let lang = ctx.lang;
    let admin = admin_for(app, session)?;
    let (last, at) = admin_kit::undelivered(&admin, &kit.kit_id)
        .await
        .map_err(failed)?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = RevokePage {
        layout: Layout::new(lang, ctx.session.as_ref()),
        a: AdminTexts::of(lang),
        name: kit.name.clone(),
        kit_id: kit.kit_id.to_string(),
        state: texts::kit_state_label(lang, kit.status.as_str()),
        revoked: kit.status == KitStatus::Revoked,
        action: format!("/office/admin/kits/{}/revoke", kit.kit_id),
        reason,
        errors,
        modes: modes(lang, chosen),
        undelivered: undelivered_text(lang, last, at),
        mode_legend: lang.pick("Wie widerrufen?", "How to revoke?").to_owned(),
        confirm_label: lang
            .pick(
                "Nur für „Sofort löschen“: Zahl der nicht ausgelieferten Anträge",
                "Only for “wipe now”: the number of undelivered applications",
            )
            .to_owned(),
    };
    Ok(html(status, &view))
}

/// `GET /office/admin/kits/{kit_id}/revoke`.
pub async fn revoke_form(
    State(app): State<AppState>,
    Path(kit_id): Path<String>,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    let page = match own_kit(&app, &ctx, &kit_id).await {
        Ok(kit) => {
            revoke_page(
                &app,
                &ctx,
                &kit,
                String::new(),
                Vec::new(),
                RevocationMode::Drain,
            )
            .await
        }
        Err(e) => Err(e),
    };
    page.unwrap_or_else(|e| ctx.error(e))
}

/// `POST /office/admin/kits/{kit_id}/revoke`.
pub async fn revoke(
    State(app): State<AppState>,
    Path(kit_id): Path<String>,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    match try_revoke(&app, &ctx, &kit_id).await {
        Ok(r) => r,
        Err(e) => ctx.error(e),
    }
}

async fn try_revoke(app: &AppState, ctx: &Ctx, kit_id: &str) -> Result<Response, OfficeError> {
    let session = ctx.session()?;
    let kit = own_kit(app, ctx, kit_id).await?;
    let lang = ctx.lang;
    let raw = ctx.field("reason")?.unwrap_or_default().to_owned();
    let reason = raw.trim();
    let shown: String = raw.chars().take(MAX_REASON_CHARS).collect();
    let Some(mode) = RevocationMode::parse(ctx.field("mode")?.unwrap_or("drain")) else {
        let message = lang.pick(
            "Unbekannte Art des Widerrufs.",
            "Unknown kind of revocation.",
        );
        return Err(OfficeError::BadRequest(vec![message.to_owned()]));
    };
    if kit.status == KitStatus::Revoked {
        let message = AdminTexts::of(lang).already_revoked.to_owned();
        return revoke_page(app, ctx, &kit, String::new(), vec![message], mode).await;
    }
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        let message = lang.pick(
            "Bitte geben Sie einen Grund an (höchstens 500 Zeichen).",
            "Please give a reason (at most 500 characters).",
        );
        return revoke_page(app, ctx, &kit, shown, vec![message.to_owned()], mode).await;
    }
    let admin = admin_for(app, session)?;
    let confirmed = ctx
        .field("confirm")?
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| c.parse::<u64>().ok());
    let (last, _) = admin_kit::undelivered(&admin, &kit.kit_id)
        .await
        .map_err(failed)?;
    if mode == RevocationMode::WipeNow && confirmed != Some(Some(last)) {
        let message = lang.pick(
            "„Sofort löschen“ vernichtet, was der Koffer nicht ausgeliefert hat. Bitte \
             bestätigen Sie die angezeigte Zahl – oder lassen Sie ihn ausliefern.",
            "“Wipe now” destroys what the kit has not delivered. Please confirm the number \
             shown – or let it drain.",
        );
        return revoke_page(app, ctx, &kit, shown, vec![message.to_owned()], mode).await;
    }
    let revoked = admin_kit::revoke_with(
        &admin,
        admin_kit::RevokeArgs {
            kit_id: &kit.kit_id.to_string(),
            reason,
            mode,
            confirmed_undelivered: Some(last),
        },
    )
    .await;
    match revoked {
        Ok(_) => {}
        Err(AdminError::Store(crate::storage::StoreError::Conflict(why))) => {
            return revoke_page(app, ctx, &kit, shown, vec![why], mode).await;
        }
        Err(e) => return Err(failed(e)),
    }
    tracing::info!(kit_id = %kit.kit_id, mode = mode.as_str(), "kit revoked in the back office");
    Ok(see_other("/office/admin/kits"))
}
