//! Test support: a backend on a temporary data folder (SQLite, or PostgreSQL in a
//! throwaway schema when `FIELDKIT_TEST_DATABASE_URL` is set; attachments in the data
//! folder, or in a fresh bucket of the S3-compatible server at `FIELDKIT_TEST_S3_URL`
//! when it is set, [`s3`]), driven either through the
//! router without a port or over loopback on `127.0.0.1:0`; [`kit::TestKit`], a kit
//! built from `sync-protocol` alone that enrols, makes records and signs requests; and
//! [`office::Browser`], a cookie-keeping client for the back-office pages.

#![allow(dead_code)]

pub mod kit;
pub mod office;
pub mod pg;
pub mod s3;

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use fieldkit_backend::admin::{self, kit::ProvisionArgs, Admin, Target};
use fieldkit_backend::blobs::{BlobConfig, BlobStore, S3Config};
use fieldkit_backend::config::DatabaseUrl;
use fieldkit_backend::keys::{MasterKey, MasterKeySource};
use fieldkit_backend::server::app_router;
use fieldkit_backend::state::AppState;
use fieldkit_backend::storage::Store;
use sync_protocol::api::Problem;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tower::ServiceExt as _;
use zeroize::Zeroizing;

pub use kit::TestKit;

/// Which store a test runs against.
#[derive(Debug, Clone)]
pub enum Db {
    /// The embedded store in the test's data folder.
    Sqlite,
    /// PostgreSQL at this URL (a fresh schema per backend).
    Postgres(String),
}

impl Db {
    pub fn name(&self) -> &'static str {
        match self {
            Db::Sqlite => "sqlite",
            Db::Postgres(_) => "postgresql",
        }
    }
}

/// The environment variable naming the PostgreSQL test database.
pub const PG_ENV: &str = "FIELDKIT_TEST_DATABASE_URL";

/// SQLite always, PostgreSQL when `FIELDKIT_TEST_DATABASE_URL` is set (else a line
/// saying that part is skipped).
pub fn databases(test: &str) -> Vec<Db> {
    let mut dbs = vec![Db::Sqlite];
    match std::env::var(PG_ENV) {
        Ok(url) if !url.is_empty() => dbs.push(Db::Postgres(url)),
        _ => eprintln!("{test}: PostgreSQL part skipped ({PG_ENV} is not set)"),
    }
    dbs
}

/// Which attachment store a test runs against.
#[derive(Debug, Clone)]
pub enum Blobs {
    /// Files in the test's data folder.
    Filesystem,
    /// A fresh bucket of the S3-compatible server at this URL.
    S3(String),
    /// Exactly this configuration (a store behind a [`s3::Gate`], a closed port).
    Config(BlobConfig),
}

impl Blobs {
    pub fn name(&self) -> &'static str {
        match self {
            Blobs::Filesystem => "filesystem",
            Blobs::S3(_) | Blobs::Config(BlobConfig::S3(_)) => "s3",
            Blobs::Config(BlobConfig::Filesystem(_)) => "filesystem (configured)",
        }
    }
}

/// The environment variable naming the S3-compatible test server (`scripts/test.sh`
/// starts moto and sets it).
pub const S3_ENV: &str = "FIELDKIT_TEST_S3_URL";

/// The S3 test server's URL, or `None` with a line saying `test`'s S3 part is skipped.
pub fn s3_url(test: &str) -> Option<String> {
    match std::env::var(S3_ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("{test}: S3 part skipped ({S3_ENV} is not set)");
            None
        }
    }
}

/// The filesystem always, S3 when `FIELDKIT_TEST_S3_URL` is set.
pub fn blob_stores(test: &str) -> Vec<Blobs> {
    let mut stores = vec![Blobs::Filesystem];
    stores.extend(s3_url(test).map(Blobs::S3));
    stores
}

/// Every database with every attachment store.
pub fn setups(test: &str) -> Vec<(Db, Blobs)> {
    let stores = blob_stores(test);
    databases(test)
        .into_iter()
        .flat_map(|db| stores.iter().map(move |b| (db.clone(), b.clone())))
        .collect()
}

/// Each database on the filesystem, and SQLite on S3 when set: for the slower tests,
/// where the store adds nothing per database.
pub fn each_store_once(test: &str) -> Vec<(Db, Blobs)> {
    let mut all: Vec<(Db, Blobs)> = databases(test)
        .into_iter()
        .map(|db| (db, Blobs::Filesystem))
        .collect();
    all.extend(s3_url(test).map(|url| (Db::Sqlite, Blobs::S3(url))));
    all
}

/// A response, fully read.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} body is not the expected JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn problem(&self) -> Problem {
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "a problem body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self.json()
    }

    pub fn code(&self) -> String {
        serde_json::to_value(self.problem().code)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

struct Served {
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// A backend for one test. The data folder (and a PostgreSQL schema) go away on drop.
pub struct Backend {
    pub admin: Admin,
    pub app: AppState,
    pub base_url: String,
    pub db: Db,
    /// Where its attachment bytes are.
    pub blob_config: BlobConfig,
    served: Option<Served>,
    http: reqwest::Client,
    pg_schema: Option<pg::Schema>,
    pub dir: TempDir,
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some(served) = &mut self.served {
            if let Some(tx) = served.shutdown.take() {
                let _ = tx.send(());
            }
            served.task.abort();
        }
    }
}

/// The base URL of backends driven without a port.
pub const ROUTER_BASE: &str = "http://fieldkit.test";

impl Backend {
    /// A backend with the demo authorities and the published catalog, driven through
    /// the router.
    pub async fn new(db: &Db) -> Self {
        Self::build(db, &Blobs::Filesystem, None, None).await
    }

    /// Driven through the router, with attachments in `blobs`.
    pub async fn with_blobs(db: &Db, blobs: &Blobs) -> Self {
        Self::build(db, blobs, None, None).await
    }

    /// The same, served over loopback on a free port.
    pub async fn serve(db: &Db) -> Self {
        Self::serve_with(db, &Blobs::Filesystem).await
    }

    /// Served over loopback, with attachments in `blobs`.
    pub async fn serve_with(db: &Db, blobs: &Blobs) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        Self::build(db, blobs, Some(listener), None).await
    }

    /// Served with these limits and timeouts instead of the defaults.
    pub async fn serve_limited(db: &Db, limits: fieldkit_backend::config::Limits) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        Self::build(db, &Blobs::Filesystem, Some(listener), Some(limits)).await
    }

    async fn build(
        db: &Db,
        blobs: &Blobs,
        listener: Option<std::net::TcpListener>,
        limits: Option<fieldkit_backend::config::Limits>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let blob_config = match blobs {
            Blobs::Filesystem => BlobConfig::Filesystem(dir.path().to_path_buf()),
            Blobs::S3(url) => BlobConfig::S3(S3Config::new(
                url,
                &s3::fresh_bucket(url).await,
                s3::ACCESS_KEY_ID,
                s3::SECRET_ACCESS_KEY,
            )),
            Blobs::Config(config) => config.clone(),
        };
        let (database, pg_schema) = match db {
            Db::Sqlite => (DatabaseUrl::embedded(dir.path()), None),
            Db::Postgres(url) => {
                let schema = pg::Schema::create(url).await;
                (DatabaseUrl::Postgres(schema.url.clone()), Some(schema))
            }
        };
        let target = Target {
            database,
            data_dir: dir.path().to_path_buf(),
            master_key: MasterKeySource {
                env: Some(Zeroizing::new(MasterKey::generate().to_text().to_string())),
                file: None,
                generate_in: None,
            },
            blobs: blob_config.clone(),
        };
        let admin = Admin::open(&target).await.expect("store opens");
        let base_url = match &listener {
            Some(l) => format!("http://{}", l.local_addr().expect("addr")),
            None => ROUTER_BASE.to_owned(),
        };
        for a in fieldkit_catalog::Catalog::from_dir(fieldkit_catalog::CATALOG_DIR)
            .expect("catalog")
            .authorities
        {
            let new = fieldkit_backend::storage::NewAuthority {
                id: a.id,
                name: a.name,
                ars: a.ars,
                kind: a.kind,
            };
            admin::authority::add(&admin, &new)
                .await
                .expect("authority added");
        }
        admin::catalog::publish(&admin, std::path::Path::new(fieldkit_catalog::CATALOG_DIR))
            .await
            .expect("catalog published");
        let server_key = admin.server_key().await.expect("server key");
        let master = MasterKey::from_text(&admin.master.to_text()).expect("master key");
        let app = AppState::with_master_key(
            Arc::clone(&admin.store),
            server_key,
            base_url.clone(),
            BlobStore::open(&blob_config).expect("attachment store"),
            master,
        );
        if let Some(limits) = limits {
            app.set_limits(limits);
        }
        let served = listener.map(|listener| {
            let (tx, rx) = oneshot::channel::<()>();
            let task = tokio::spawn(fieldkit_backend::server::serve_on(
                listener,
                app.clone(),
                None,
                Duration::from_secs(5),
                async move {
                    let _ = rx.await;
                },
            ));
            Served {
                shutdown: Some(tx),
                task,
            }
        });
        Self {
            admin,
            app,
            base_url,
            db: db.clone(),
            blob_config,
            served,
            http: test_http_client(),
            pg_schema,
            dir,
        }
    }

    pub fn store(&self) -> &Store {
        self.admin.store.as_ref()
    }

    /// The URL of this backend's PostgreSQL schema (`None` on SQLite).
    pub fn pg_url(&self) -> Option<&str> {
        self.pg_schema.as_ref().map(|s| s.url.as_str())
    }

    /// Tells a served backend to shut down gracefully (as SIGTERM does).
    pub fn trigger_shutdown(&mut self) {
        let served = self.served.as_mut().expect("served backend");
        if let Some(tx) = served.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Waits until a served backend has stopped.
    pub async fn stopped(&mut self) -> std::io::Result<()> {
        let served = self.served.as_mut().expect("served backend");
        (&mut served.task).await.expect("server task")
    }

    /// Sends a request (its URI is a path and query) through the router or over HTTP.
    pub async fn send(&self, req: Request<Body>) -> Resp {
        if self.served.is_none() {
            let response = app_router(self.app.clone())
                .oneshot(req)
                .await
                .expect("router is infallible");
            let (parts, body) = response.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX).await.expect("body");
            return Resp {
                status: parts.status,
                headers: parts.headers,
                body,
            };
        }
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.expect("body");
        let url = format!("{}{}", self.base_url, parts.uri);
        // A request marked with a client address is sent from that (loopback) address.
        let from = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        let http = match from {
            Some(ip) => reqwest::Client::builder()
                .local_address(ip)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            None => self.http.clone(),
        };
        let response = http
            .request(parts.method, url)
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .expect("request sent");
        Resp {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.bytes().await.expect("response body"),
        }
    }

    /// Provisions a kit of `authority`; returns the code.
    pub async fn provision(&self, authority: &str, ttl: chrono::Duration) -> String {
        admin::kit::provision(
            &self.admin,
            ProvisionArgs {
                authority,
                name: "Testkoffer",
                backend_url: "http://127.0.0.1:8080",
                tls_cert: None,
                insecure_allow_plain_http: false,
                code_ttl: ttl,
                out: fieldkit_backend::admin::kit::Out::Nowhere,
            },
        )
        .await
        .expect("provisioned")
        .code
    }

    /// A kit of `gemeinde-musterstadt`, enrolled over the API.
    pub async fn kit(&self) -> TestKit {
        self.kit_of("gemeinde-musterstadt").await
    }

    /// A kit of `authority`, enrolled over the API.
    pub async fn kit_of(&self, authority: &str) -> TestKit {
        let code = self.provision(authority, chrono::Duration::hours(1)).await;
        let mut kit = TestKit::new(self).await;
        let resp = self.send(kit.enrol_request(&code)).await;
        assert_eq!(resp.status, StatusCode::CREATED, "{resp:?}");
        kit.enrolled(&resp.json());
        kit
    }
}

/// An HTTP client for talking to the test server. reqwest's rustls backend (enabled in
/// this workspace by the kit's client) needs a process-wide crypto provider: ring, as
/// everywhere in Fieldkit.
fn test_http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
