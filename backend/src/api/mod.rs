//! The HTTP layer. [`ROUTES`] is the one list of endpoints: [`router`] is built from
//! it, the OpenAPI test compares it with `backend/openapi.json`, and the
//! authentication test walks it. Every route passes [`guard`], which applies
//! PROTOCOL.md §6's order of checks — protocol version, body limit, request signature,
//! kit standing — before the handler sees the buffered body.

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
    route("GET", "/metrics", Access::Public, SMALL, Endpoint::Metrics),
    route(
        "GET",
        "/api/openapi.json",
        Access::Public,
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
    route(
        "OPTIONS",
        "/v1/uploads",
        kit(Standing::Active),
        SMALL,
        Endpoint::UploadOptions,
    ),
    route(
        "POST",
        "/v1/uploads",
        kit(Standing::Active),
        SMALL,
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
    let mut router = Router::new();
    for r in ROUTES {
        let guarded = method_router(r.endpoint, filter(r.method))
            .layer(middleware::from_fn_with_state((app.clone(), *r), guard));
        router = router.route(r.path, guarded);
    }
    router
        .route_layer(middleware::from_fn_with_state(app.clone(), count))
        .fallback(|| async { ApiError::NotFound("no such resource".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(middleware::map_response(protocol_header))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(app)
}

async fn protocol_header(mut response: Response) -> Response {
    response.headers_mut().insert(
        sync_protocol::PROTOCOL_HEADER,
        HeaderValue::from(sync_protocol::PROTOCOL_VERSION),
    );
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

async fn buffer(body: Body, limit: usize, declared: Option<u64>) -> Result<Bytes, ApiError> {
    let too_large = || ApiError::TooLarge(format!("the body exceeds {limit} bytes"));
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())
}

/// PROTOCOL.md §6 order of checks, steps 1–4, for one route.
async fn guard(
    State((app, route)): State<(AppState, Route)>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if route.access != Access::Public
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
    let bytes = buffer(body, route.body_limit, declared).await?;
    if let Access::Kit(standing) = route.access {
        let path_and_query = parts
            .extensions
            .get::<OriginalUri>()
            .map_or(&parts.uri, |o| &o.0)
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_owned();
        let kit = auth::authenticate(&app, &parts, &path_and_query, &bytes).await?;
        auth::require_standing(&kit, standing)?;
        parts.extensions.insert(kit);
    }
    parts.extensions.insert(RawBody(bytes));
    let is_head = parts.method == Method::HEAD;
    let response = next.run(Request::from_parts(parts, Body::empty())).await;
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
