//! The authority page of an it-operator: the own authority's facts and its HPKE keys
//! (current and retired, with dates), and the key rotation after a confirmation — done
//! by [`crate::admin::authority::rotate_key`], the CLI's function, which keeps the old
//! key for opening older cases and audits the rotation.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;

use super::views::{AuthorityPage, KeyView, RotatePage};
use super::{admin_for, failed, or_dash, AdminTexts};
use fieldkit_catalog::AuthorityKind;

use crate::admin::authority as admin_authority;
use crate::office::error::{see_other, OfficeError};
use crate::office::i18n::Lang;
use crate::office::views::{html, time, Layout};
use crate::office::Ctx;
use crate::state::AppState;
use crate::storage::{AuthorityKeyRow, AuthorityRow};

async fn own(
    app: &AppState,
    ctx: &Ctx,
) -> Result<(AuthorityRow, Vec<AuthorityKeyRow>), OfficeError> {
    let id = &ctx.session()?.user.authority_id;
    let row = app
        .store
        .authorities()
        .await?
        .into_iter()
        .find(|a| &a.authority.id == id)
        .ok_or(OfficeError::NotFound)?;
    let keys = app.store.authority_keys(id).await?;
    Ok((row, keys))
}

fn kind_label(lang: Lang, kind: AuthorityKind) -> String {
    let en = match kind {
        AuthorityKind::Gemeinde => "Municipality",
        AuthorityKind::Kreis => "County",
        AuthorityKind::Land => "Federal state",
        AuthorityKind::Bund => "Federal office",
    };
    lang.pick(kind.name_de(), en).to_owned()
}

/// `GET /office/admin/authority`.
pub async fn show(State(app): State<AppState>, Extension(ctx): Extension<Ctx>) -> Response {
    let (row, keys) = match own(&app, &ctx).await {
        Ok(found) => found,
        Err(e) => return ctx.error(e),
    };
    let (lang, t) = (ctx.lang, ctx.lang.texts());
    let a = AdminTexts::of(lang);
    let facts = vec![
        (t.authority.to_owned(), row.authority.name.clone()),
        (a.authority_id.to_owned(), row.authority.id.to_string()),
        (a.kind.to_owned(), kind_label(lang, row.authority.kind)),
        (
            a.ars.to_owned(),
            or_dash(row.authority.ars.as_ref().map(ToString::to_string), lang),
        ),
        (a.created_at.to_owned(), time(row.created_at)),
    ];
    let keys = keys
        .into_iter()
        .map(|k| KeyView {
            key_id: k.key.key_id.clone(),
            created_at: time(k.key.created_at),
            current: k.retired_at.is_none(),
            retired_at: k.retired_at.map_or_else(|| a.key_current.to_owned(), time),
        })
        .collect();
    let view = AuthorityPage {
        layout: Layout::new(lang, ctx.session.as_ref()),
        a,
        facts,
        keys,
    };
    html(StatusCode::OK, &view)
}

/// `GET /office/admin/authority/rotate-key`: what a rotation does, and the button.
pub async fn rotate_form(State(app): State<AppState>, Extension(ctx): Extension<Ctx>) -> Response {
    let (row, keys) = match own(&app, &ctx).await {
        Ok(found) => found,
        Err(e) => return ctx.error(e),
    };
    let lang = ctx.lang;
    let current = keys
        .iter()
        .find(|k| k.retired_at.is_none())
        .map(|k| k.key.key_id.clone());
    let view = RotatePage {
        layout: Layout::new(lang, ctx.session.as_ref()),
        a: AdminTexts::of(lang),
        authority: row.authority.name,
        current_key: or_dash(current, lang),
    };
    html(StatusCode::OK, &view)
}

/// `POST /office/admin/authority/rotate-key`.
pub async fn rotate(State(app): State<AppState>, Extension(ctx): Extension<Ctx>) -> Response {
    let result = async {
        let session = ctx.session()?;
        let admin = admin_for(&app, session)?;
        let key_id = admin_authority::rotate_key(&admin, session.user.authority_id.as_str())
            .await
            .map_err(failed)?;
        tracing::info!(key_id = %key_id, "authority key rotated in the back office");
        Ok::<_, OfficeError>(see_other("/office/admin/authority"))
    }
    .await;
    result.unwrap_or_else(|e| ctx.error(e))
}
