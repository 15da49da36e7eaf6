//! The HTTP layer. [`ROUTES`] is the one list of endpoints: [`router`] is built from
//! it, the OpenAPI test compares it with `backend/openapi.json`, and the
//! authentication test walks it. Every route passes [`guard`], which applies
//! PROTOCOL.md §6's order of checks — protocol version, declared body size, request
//! signature headers, kit standing, the kit's request slots — before reading a byte of
//! the body, then streams the body in under its size limit while hashing it for the
//! signed `Content-Digest`, and only then hands the buffered body to the handler.

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, OriginalUri, Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::error::ApiError;
use crate::state::AppState;

pub mod auth;
mod catalog;
mod changes;
pub mod decode;
mod enrol;
mod ops;
mod records;
mod state;
mod uploads;

pub use auth::AuthedKit;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Operations endpoints: no protocol header, no signature.
    Public,
    /// Operations endpoints served only on the separate operations listener
    /// (`ops_listen`, default loopback; [`ops_router`]), never on the public one.
    Operations,
    /// `POST /v1/enrol`: protocol header, no request signature (the body is signed).
    Enrolment,
    /// A signed kit request; the kit must have at least this standing.
    Kit(Standing),
}

/// The standing a kit needs for a route (PROTOCOL.md §6, order of checks, step 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Even a revoked kit (to receive its wipe).
    Any,
    /// Active or quarantined.
    NotRevoked,
    /// Active only.
    Active,
}

/// What a route does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET /healthz`.
    Healthz,
    /// `GET /readyz`.
    Readyz,
    /// `GET /metrics`.
    Metrics,
    /// `GET /api/openapi.json`.
    OpenApi,
    /// `POST /v1/enrol`.
    Enrol,
    /// `GET /v1/state`.
    State,
    /// `POST /v1/records`.
    Records,
    /// `OPTIONS /v1/uploads`.
    UploadOptions,
    /// `POST /v1/uploads`.
    UploadCreate,
    /// `HEAD /v1/uploads/{attachment_id}`.
    UploadHead,
    /// `PATCH /v1/uploads/{attachment_id}`.
    UploadPatch,
    /// `DELETE /v1/uploads/{attachment_id}`.
    UploadDelete,
    /// `GET /v1/changes`.
    Changes,
    /// `GET /v1/catalog/current`.
    Catalog,
}

/// One route.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// The HTTP method.
    pub method: &'static str,
    /// The path template (axum syntax, as in OpenAPI).
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// The largest request body, in bytes (PROTOCOL.md §6.7).
    pub body_limit: usize,
    /// What it does.
    pub endpoint: Endpoint,
}

const SMALL: usize = 16 * 1024;
const ENVELOPE: usize = sync_protocol::dsse::MAX_ENVELOPE_BYTES;
const BATCH: usize = sync_protocol::api::MAX_BATCH_BYTES;
const CHUNK: usize = sync_protocol::api::MAX_UPLOAD_CHUNK_BYTES;

/// Every route of the backend.
pub const ROUTES: &[Route] = &[
    route("GET", "/healthz", Access::Public, SMALL, Endpoint::Healthz),
    route("GET", "/readyz", Access::Public, SMALL, Endpoint::Readyz),
    route(
        "GET",
        "/metrics",
        Access::Operations,
        SMALL,
        Endpoint::Metrics,
    ),
    route(
        "GET",
        "/api/openapi.json",
        Access::Operations,
        SMALL,
        Endpoint::OpenApi,
    ),
    route(
        "POST",
        "/v1/enrol",
        Access::Enrolment,
        ENVELOPE,
        Endpoint::Enrol,
    ),
    route(
        "GET",
        "/v1/state",
        kit(Standing::NotRevoked),
        SMALL,
        Endpoint::State,
    ),
    route(
        "POST",
        "/v1/records",
        kit(Standing::Active),
        BATCH,
        Endpoint::Records,
    ),
    // tus discovery: fixed capabilities, unsigned, so that a standard tus client can
    // ask (PROTOCOL.md §6.4).
    route(
        "OPTIONS",
        "/v1/uploads",
        Access::Public,
        SMALL,
        Endpoint::UploadOptions,
    ),
    route(
        "POST",
        "/v1/uploads",
        kit(Standing::Active),
        CHUNK,
        Endpoint::UploadCreate,
    ),
    route(
        "HEAD",
        "/v1/uploads/{attachment_id}",
        kit(Standing::Active),
        SMALL,
        Endpoint::UploadHead,
    ),
    route(
        "PATCH",
        "/v1/uploads/{attachment_id}",
        kit(Standing::Active),
        CHUNK,
        Endpoint::UploadPatch,
    ),
    route(
        "DELETE",
        "/v1/uploads/{attachment_id}",
        kit(Standing::Active),
        SMALL,
        Endpoint::UploadDelete,
    ),
    route(
        "GET",
        "/v1/changes",
        kit(Standing::Any),
        SMALL,
        Endpoint::Changes,
    ),
    route(
        "GET",
        "/v1/catalog/current",
        kit(Standing::NotRevoked),
        SMALL,
        Endpoint::Catalog,
    ),
];

const fn kit(standing: Standing) -> Access {
    Access::Kit(standing)
}

const fn route(
    method: &'static str,
    path: &'static str,
    access: Access,
    body_limit: usize,
    endpoint: Endpoint,
) -> Route {
    Route {
        method,
        path,
        access,
        body_limit,
        endpoint,
    }
}

/// The request body after [`guard`] buffered (and for kit routes authenticated) it.
#[derive(Debug, Clone)]
pub struct RawBody(pub Bytes);

fn method_router(endpoint: Endpoint, filter: MethodFilter) -> MethodRouter<AppState> {
    match endpoint {
        Endpoint::Healthz => on(filter, ops::healthz),
        Endpoint::Readyz => on(filter, ops::readyz),
        Endpoint::Metrics => on(filter, ops::metrics),
        Endpoint::OpenApi => on(filter, ops::openapi),
        Endpoint::Enrol => on(filter, enrol::enrol),
        Endpoint::State => on(filter, state::state),
        Endpoint::Records => on(filter, records::push),
        Endpoint::UploadOptions => on(filter, uploads::options),
        Endpoint::UploadCreate => on(filter, uploads::create),
        Endpoint::UploadHead => on(filter, uploads::head),
        Endpoint::UploadPatch => on(filter, uploads::patch),
        Endpoint::UploadDelete => on(filter, uploads::delete),
        Endpoint::Changes => on(filter, changes::changes),
        Endpoint::Catalog => on(filter, catalog::current),
    }
}

fn filter(method: &str) -> MethodFilter {
    match method {
        "POST" => MethodFilter::POST,
        "OPTIONS" => MethodFilter::OPTIONS,
        "HEAD" => MethodFilter::HEAD,
        "PATCH" => MethodFilter::PATCH,
        "DELETE" => MethodFilter::DELETE,
        _ => MethodFilter::GET,
    }
}

/// The whole application. Tests drive it with `tower::ServiceExt::oneshot`; the
/// server serves it on a listener.
pub fn router(app: AppState) -> Router {
    routes(app, |r| r.access != Access::Operations)
}

/// The operations listener's routes: liveness, readiness, metrics and the OpenAPI
/// document (backend/README.md, "Operations").
pub fn ops_router(app: AppState) -> Router {
    routes(app, |r| {
        r.access == Access::Operations || matches!(r.endpoint, Endpoint::Healthz | Endpoint::Readyz)
    })
}

fn routes(app: AppState, wanted: impl Fn(&Route) -> bool) -> Router {
    let mut router = Router::new();
    for r in ROUTES.iter().filter(|r| wanted(r)) {
        let guarded = method_router(r.endpoint, filter(r.method))
            .layer(middleware::from_fn_with_state((app.clone(), *r), guard));
        router = router.route(r.path, guarded);
    }
    router
        .route_layer(middleware::from_fn_with_state(app.clone(), count))
        .fallback(|| async { ApiError::NotFound("no such resource".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(middleware::from_fn(protocol_header))
        .layer(middleware::from_fn(tus_resumable))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(app)
}

/// Echoes the protocol version the request was processed under (§6.8): the request's
/// own when supported, else the current one.
async fn protocol_header(req: Request, next: Next) -> Response {
    let version = req
        .headers()
        .get(sync_protocol::PROTOCOL_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| decode::protocol_version_ok(Some(v)))
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(sync_protocol::PROTOCOL_VERSION);
    let mut response = next.run(req).await;
    response
        .headers_mut()
        .insert(sync_protocol::PROTOCOL_HEADER, HeaderValue::from(version));
    response
}

/// `Tus-Resumable` on every answer under `/v1/uploads` (PROTOCOL.md §6.4), also those
/// decided before the tus handler runs (401, 403, 405, 408, 413, 429).
pub(crate) async fn tus_resumable(req: Request, next: Next) -> Response {
    let tus = req.uri().path().starts_with("/v1/uploads");
    let mut response = next.run(req).await;
    if tus {
        response
            .headers_mut()
            .insert("tus-resumable", HeaderValue::from_static("1.0.0"));
    }
    response
}

async fn count(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let response = next.run(req).await;
    app.metrics.request(&route, response.status().as_u16());
    response
}

fn too_large(limit: usize) -> ApiError {
    ApiError::TooLarge(format!("the body exceeds {limit} bytes"))
}

/// Whether a body error is tower-http's body timeout (a pause longer than allowed).
fn is_timeout(error: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// Reads the body frame by frame, refusing it as soon as it passes `limit`, and
/// returns it with its SHA-256.
async fn stream_in(body: Body, limit: usize) -> Result<(Bytes, [u8; 32]), ApiError> {
    use futures_util::StreamExt as _;
    use sha2::{Digest as _, Sha256};
    let mut stream = body.into_data_stream();
    let mut buffer = Vec::new();
    let mut hash = Sha256::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            if is_timeout(&e) {
                ApiError::RequestTimeout
            } else {
                ApiError::Malformed("the request body ended early".into())
            }
        })?;
        if buffer.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        hash.update(&chunk);
        buffer.extend_from_slice(&chunk);
    }
    Ok((Bytes::from(buffer), hash.finalize().into()))
}

/// PROTOCOL.md §6 order of checks, steps 1–5, for one route.
async fn guard(
    State((app, route)): State<(AppState, Route)>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if matches!(route.access, Access::Kit(_) | Access::Enrolment)
        && !decode::protocol_version_ok(
            req.headers()
                .get(sync_protocol::PROTOCOL_HEADER)
                .and_then(|v| v.to_str().ok()),
        )
    {
        return Err(ApiError::UnsupportedVersion);
    }
    let (mut parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > route.body_limit as u64) {
        return Err(too_large(route.body_limit));
    }
    // Everything about a kit request that the headers decide is decided before the
    // body is read: an unauthenticated client never gets a byte buffered.
    let mut pending = None;
    let mut slot = None;
    if let Access::Kit(standing) = route.access {
        let path_and_query = parts
            .extensions
            .get::<OriginalUri>()
            .map_or(&parts.uri, |o| &o.0)
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_owned();
        let head = auth::authenticate_head(&app, &parts, &path_and_query).await?;
        auth::require_standing(&head.kit, standing)?;
        slot = Some(
            app.kit_slot(head.kit.kit.kit_id)
                .ok_or(ApiError::KitBusy(app.limits().max_requests_per_kit))?,
        );
        pending = Some(head);
    }
    let (bytes, sha256) = stream_in(body, route.body_limit).await?;
    if let Some(head) = pending {
        parts.extensions.insert(head.finish(&app, &sha256).await?);
    }
    parts.extensions.insert(RawBody(bytes));
    let is_head = parts.method == Method::HEAD;
    let response = next.run(Request::from_parts(parts, Body::empty())).await;
    drop(slot);
    Ok(if is_head {
        // HEAD answers carry headers only.
        let (parts, _) = response.into_parts();
        Response::from_parts(parts, Body::empty())
    } else {
        response
    })
}

/// A JSON `200`/`201` answer with `Content-Type: application/json`.
pub(crate) fn json<T: serde::Serialize>(status: u16, value: &T) -> Response {
    let status = axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::OK);
    let body = serde_json::to_vec(value).unwrap_or_default();
    (
        status,
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}
