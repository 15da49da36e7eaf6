//! The catalog page (read-only): every published catalog version with its date and
//! ETag, and the services of the current one — name, id, LeiKa key, whether the kit
//! can capture it offline. Publishing stays with the CLI (`admin catalog publish`),
//! which loads, checks and signs a catalog folder on the server.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;

use super::views::{CatalogPage, ServiceView, VersionView};
use super::AdminTexts;
use crate::office::error::OfficeError;
use crate::office::views::{html, time, Layout};
use crate::office::Ctx;
use crate::state::AppState;

/// `GET /office/admin/catalog`.
pub async fn show(State(app): State<AppState>, Extension(ctx): Extension<Ctx>) -> Response {
    match try_show(&app, &ctx).await {
        Ok(r) => r,
        Err(e) => ctx.error(e),
    }
}

async fn try_show(app: &AppState, ctx: &Ctx) -> Result<Response, OfficeError> {
    let (lang, t) = (ctx.lang, ctx.lang.texts());
    let yes_no = |b: bool| if b { t.yes } else { t.no }.to_owned();
    let versions = app
        .store
        .catalog_versions()
        .await?
        .into_iter()
        .map(|v| VersionView {
            version: v.version,
            published_at: time(v.published_at),
            current: yes_no(v.current),
            etag: v.etag,
        })
        .collect();
    let catalog = app
        .catalog
        .current(app.store.as_ref(), &app.server_verifying_keys())
        .await
        .map_err(|e| OfficeError::Internal(e.to_string()))?;
    let services = catalog
        .as_deref()
        .map(|c| c.services.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|s| ServiceView {
            name: lang.pick(&s.name.de, &s.name.en).to_owned(),
            id: s.id.to_string(),
            leika: s.leika.key.to_string(),
            offline: yes_no(s.availability.offline),
        })
        .collect();
    let view = CatalogPage {
        layout: Layout::new(lang, ctx.session.as_ref()),
        a: AdminTexts::of(lang),
        versions,
        services,
    };
    Ok(html(StatusCode::OK, &view))
}
