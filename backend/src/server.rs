//! Serving: TLS with rustls (ring provider) or plain HTTP, graceful shutdown that stops
//! accepting, turns `/readyz` to 503 and lets in-flight requests — a batch is one
//! transaction — finish within the grace period; the background task that forgets
//! expired nonces and sessions; and [`app_router`], the kit API plus the back office.
//!
//! The limits of [`crate::config::Limits`] are applied here with hyper's and tower-http's
//! own settings where they exist: hyper's `header_read_timeout` (request heads, idle
//! keep-alive connections), rustls' handshake timeout, tower-http's
//! `RequestBodyTimeoutLayer` (pauses inside a body) and `TimeoutLayer` (whole request,
//! answered 408). What they lack is added in [`Admit`]: a connection must send its first
//! byte within the header timeout, and at most `max_connections` connections are served;
//! a connection beyond that gets 503 `unavailable` with `Retry-After` and is closed.
//!
//! The TLS material itself (certificate, key, pin) is read by [`crate::tls`].

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse as _, Response};
use axum_server::accept::{Accept, DefaultAcceptor};
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use axum_server::Handle;
use chrono::Utc;
use futures_util::future::Either;
use hyper_util::rt::TokioTimer;
use rustls::ServerConfig;

use crate::api;
use crate::config::Limits;
use crate::error::ApiError;
use crate::state::AppState;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long nonces are remembered (PROTOCOL.md §7.4: at least 360 s).
pub const NONCE_MEMORY: Duration = Duration::from_secs(600);

/// Everything the backend serves: the kit API ([`api::router`], unchanged) and the back
/// office under `/office` ([`crate::office::router`]).
pub fn app_router(app: AppState) -> axum::Router {
    api::router(app.clone()).merge(crate::office::router(app))
}

async fn forget_old_nonces(app: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        let before = Utc::now()
            - chrono::Duration::from_std(NONCE_MEMORY).unwrap_or(chrono::Duration::minutes(10));
        match app.store.purge_nonces(before).await {
            Ok(n) if n > 0 => tracing::debug!(nonces = n, "old nonces forgotten"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not forget old nonces"),
        }
        match app.store.purge_sessions(Utc::now()).await {
            Ok(n) if n > 0 => tracing::debug!(sessions = n, "ended sessions forgotten"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not forget ended sessions"),
        }
        let before = Utc::now() - crate::login_throttle::FORGET_AFTER;
        match app.store.purge_login_failures(before).await {
            Ok(n) if n > 0 => tracing::debug!(rows = n, "old login failures forgotten"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not forget old login failures"),
        }
    }
}

/// Serves the application on `listener` until `shutdown` completes, then stops
/// accepting and waits up to `grace` for in-flight requests.
///
/// # Errors
/// When the listener fails.
pub async fn serve_on(
    listener: std::net::TcpListener,
    app: AppState,
    tls: Option<Arc<ServerConfig>>,
    grace: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let handle: Handle<std::net::SocketAddr> = Handle::new();
    let watcher = {
        let (handle, app) = (handle.clone(), app.clone());
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!(grace_seconds = grace.as_secs(), "shutting down");
            app.begin_shutdown();
            handle.graceful_shutdown(Some(grace));
        })
    };
    let purger = tokio::spawn(forget_old_nonces(app.clone()));
    let limits = app.limits().clone();
    let admit = Admit {
        inner: DefaultAcceptor,
        slots: Arc::new(Semaphore::new(limits.max_connections)),
        first_byte: limits.header_read_timeout,
        app: app.clone(),
    };
    // The peer address is the login throttle's client address (office/login.rs).
    let service = limited(app_router(app), &limits, tls.is_some())
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = match tls {
        Some(config) => {
            let acceptor = RustlsAcceptor::new(RustlsConfig::from_config(config))
                .handshake_timeout(limits.header_read_timeout)
                .acceptor(admit);
            let mut server = axum_server::from_tcp(listener)?.acceptor(acceptor);
            http_settings(server.http_builder(), &limits);
            server.handle(handle).serve(service).await
        }
        None => {
            let mut server = axum_server::from_tcp(listener)?.acceptor(admit);
            http_settings(server.http_builder(), &limits);
            server.handle(handle).serve(service).await
        }
    };
    watcher.abort();
    purger.abort();
    served
}

/// Serves the operations endpoints ([`api::ops_router`]: liveness, readiness, metrics,
/// the OpenAPI document) on their own listener until the task is dropped.
///
/// # Errors
/// When the listener fails.
pub async fn serve_ops(listener: std::net::TcpListener, app: AppState) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let limits = app.limits().clone();
    let mut server = axum_server::from_tcp(listener)?;
    http_settings(server.http_builder(), &limits);
    server.serve(api::ops_router(app).into_make_service()).await
}

/// hyper's own limits: the request-head timeout (HTTP/1.1; it also ends idle keep-alive
/// connections) and, for HTTP/2, keep-alive pings and a bound on parallel streams.
fn http_settings(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    limits: &Limits,
) {
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.header_read_timeout)
        .keep_alive_timeout(limits.header_read_timeout)
        .max_concurrent_streams(u32::try_from(limits.max_requests_per_kit * 4).unwrap_or(64));
}

/// The request-level limits as tower-http layers: pauses inside a body and the whole
/// request's deadline (both answered 408 `request-timeout`), and HSTS when this process
/// serves TLS itself.
fn limited(router: axum::Router, limits: &Limits, tls: bool) -> axum::Router {
    use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
    let router = router
        .layer(RequestBodyTimeoutLayer::new(limits.body_idle_timeout))
        .layer(axum::middleware::map_response(timeout_problem))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(axum::middleware::from_fn(api::tus_resumable));
    if tls {
        router.layer(axum::middleware::map_response(hsts))
    } else {
        router
    }
}

/// `TimeoutLayer` answers with an empty 408; kits get a problem like every other error.
async fn timeout_problem(response: Response) -> Response {
    if response.status() == StatusCode::REQUEST_TIMEOUT
        && !response.headers().contains_key(header::CONTENT_TYPE)
    {
        let mut problem = ApiError::RequestTimeout.into_response();
        problem.headers_mut().insert(
            sync_protocol::PROTOCOL_HEADER,
            HeaderValue::from(sync_protocol::PROTOCOL_VERSION),
        );
        problem
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return problem;
    }
    response
}

/// One year, as browsers and the BSI minimum standard expect; only sent over TLS.
async fn hsts(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    response
}

/// Admits a new connection: takes one of `max_connections` slots (without one, every
/// request on the connection is answered 503 and the connection closed) and waits at
/// most `first_byte` for the client to send anything (else the connection is closed
/// without an answer).
#[derive(Clone)]
struct Admit<A> {
    inner: A,
    slots: Arc<Semaphore>,
    first_byte: Duration,
    app: AppState,
}

impl<A, S> Accept<TcpStream, S> for Admit<A>
where
    A: Accept<TcpStream, Slotted<S>> + Clone + Send + Sync + 'static,
    A::Future: Send,
    S: Send + 'static,
{
    type Stream = A::Stream;
    type Service = A::Service;
    type Future = Pin<Box<dyn Future<Output = io::Result<(A::Stream, A::Service)>> + Send>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let slot = Arc::clone(&self.slots)
            .try_acquire_owned()
            .ok()
            .map(Arc::new);
        if slot.is_none() {
            self.app.metrics.request("connection-refused", 503);
        }
        let (inner, first_byte) = (self.inner.clone(), self.first_byte);
        Box::pin(async move {
            // `peek` waits for real bytes (or the end of the stream), not readiness.
            let mut first = [0u8; 1];
            tokio::time::timeout(first_byte, stream.peek(&mut first))
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no request"))??;
            inner
                .accept(
                    stream,
                    Slotted {
                        inner: service,
                        slot,
                    },
                )
                .await
        })
    }
}

/// A connection's service holding its connection slot; without one it answers 503.
#[derive(Clone)]
struct Slotted<S> {
    inner: S,
    slot: Option<Arc<OwnedSemaphorePermit>>,
}

impl<S, B> tower::Service<Request<B>> for Slotted<S>
where
    S: tower::Service<Request<B>, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, std::future::Ready<Result<Response, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if self.slot.is_some() {
            return Either::Left(self.inner.call(request));
        }
        let mut response = ApiError::Overloaded(1).into_response();
        let headers = response.headers_mut();
        headers.insert(
            sync_protocol::PROTOCOL_HEADER,
            HeaderValue::from(sync_protocol::PROTOCOL_VERSION),
        );
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        Either::Right(std::future::ready(Ok(response)))
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
