//! The one typed configuration of `fieldkit-backend serve`, built in two steps: raw
//! [`ConfigLayer`]s (every field optional) from defaults, a TOML file, the environment
//! and command-line flags, merged in that order (later wins); then [`Config::resolve`]
//! validates the result into values the server can use without further checks.
//!
//! `backend/fieldkit-backend.example.toml` documents every field; a test parses it.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::blobs::{BlobConfig, BlobsLayer};

/// Environment variable naming the TOML config file.
pub const ENV_CONFIG: &str = "FIELDKIT_CONFIG";

/// Why a configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file cannot be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not valid TOML of the expected shape.
    #[error("config file {path}: {reason}")]
    Parse {
        /// The file.
        path: String,
        /// What the parser said.
        reason: String,
    },
    /// An environment variable has a value of the wrong type.
    #[error("environment variable {name}: {reason}")]
    Env {
        /// The variable.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The merged values contradict each other or a rule.
    #[error("{0}")]
    Invalid(String),
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// One JSON object per line (for log collectors); the default.
    Json,
    /// Human-readable lines.
    Text,
}

/// One layer of configuration: every field optional. The TOML file has exactly these
/// keys; the environment variables are `FIELDKIT_` + the key in upper case.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct ConfigLayer {
    /// Address and port to listen on.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Address and port of the operations listener (`/metrics`, `/api/openapi.json`,
    /// `/healthz`, `/readyz`); keep it on loopback or an internal network.
    #[arg(long)]
    pub ops_listen: Option<SocketAddr>,
    /// Folder for the embedded database, attachment files and (embedded setups only)
    /// the generated master key.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// `postgres://…` for PostgreSQL, `sqlite://PATH` for another SQLite file; default:
    /// `fieldkit.sqlite3` in the data folder.
    #[arg(long = "database")]
    pub database_url: Option<String>,
    /// The URL kits use to reach this backend (scheme and authority, no path); needed
    /// to verify request signatures behind TLS-terminating proxies.
    #[arg(long)]
    pub public_base_url: Option<String>,
    /// PEM certificate chain for TLS.
    #[arg(long)]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for TLS.
    #[arg(long)]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP on a non-loopback address (only behind a TLS-terminating proxy).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub insecure_allow_plain_http: Option<bool>,
    /// File holding the 32-byte master key (base64); alternatively `FIELDKIT_MASTER_KEY`.
    #[arg(long)]
    pub master_key_file: Option<PathBuf>,
    /// Lets a demo set-up keep (or generate) the master key inside the data folder.
    /// Otherwise `serve` refuses that: every copy of the folder would carry the key
    /// that opens it.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub allow_master_key_in_data_dir: Option<bool>,
    /// How long an enrolment code stays valid, in hours.
    #[arg(long)]
    pub enrolment_code_ttl_hours: Option<u32>,
    /// How long shutdown waits for in-flight requests, in seconds.
    #[arg(long)]
    pub shutdown_grace_seconds: Option<u64>,
    /// `json` or `text`.
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Connections in the PostgreSQL pool.
    #[arg(long)]
    pub database_pool_size: Option<usize>,
    /// Seconds a client has to send the complete request head (line and headers) of each request; then the connection is closed.
    #[arg(long)]
    pub header_read_timeout_seconds: Option<u64>,
    /// Seconds a request body may pause between two pieces; then 408.
    #[arg(long)]
    pub body_idle_timeout_seconds: Option<u64>,
    /// Seconds one request may take in total, body and answer included; then 408.
    #[arg(long)]
    pub request_timeout_seconds: Option<u64>,
    /// Open client connections at most; beyond it each request is answered 503.
    #[arg(long)]
    pub max_connections: Option<usize>,
    /// Requests of one kit handled at the same time at most (per process); beyond it 429.
    #[arg(long)]
    pub max_requests_per_kit: Option<usize>,
    /// Records one kit may deliver within 24 hours; beyond it batches get 429
    /// `quota-exceeded` (nothing is rejected; the kit retries later).
    #[arg(long)]
    pub quota_records_per_day: Option<u64>,
    /// MiB of attachments one kit may have announced but not yet uploaded; beyond it
    /// batches get 429 `quota-exceeded` until uploads catch up.
    #[arg(long)]
    pub quota_pending_upload_mib: Option<u64>,
    /// Where attachment bytes live: the `[blobs]` table, `FIELDKIT_BLOBS_*` (no flags).
    /// Boxed: the layer is large and mostly absent.
    #[arg(skip)]
    #[serde(default)]
    pub blobs: Option<Box<BlobsLayer>>,
}

impl ConfigLayer {
    /// The built-in defaults.
    pub fn defaults() -> Self {
        Self {
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 8080))),
            ops_listen: Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
            data_dir: Some(PathBuf::from("fieldkit-data")),
            insecure_allow_plain_http: Some(false),
            allow_master_key_in_data_dir: Some(false),
            enrolment_code_ttl_hours: Some(72),
            shutdown_grace_seconds: Some(30),
            log_format: Some(LogFormat::Json),
            database_pool_size: Some(16),
            header_read_timeout_seconds: Some(10),
            body_idle_timeout_seconds: Some(15),
            request_timeout_seconds: Some(120),
            max_connections: Some(512),
            max_requests_per_kit: Some(4),
            quota_records_per_day: Some(2000),
            quota_pending_upload_mib: Some(8192),
            ..Self::default()
        }
    }

    /// Reads a TOML file.
    ///
    /// # Errors
    /// [`ConfigError::Read`] or [`ConfigError::Parse`].
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    }

    /// Reads `FIELDKIT_*` variables through `get` (the real environment in the binary,
    /// a map in tests).
    ///
    /// # Errors
    /// [`ConfigError::Env`] for a value of the wrong type.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let log_format = match get("FIELDKIT_LOG_FORMAT").as_deref() {
            None => None,
            Some("json") => Some(LogFormat::Json),
            Some("text") => Some(LogFormat::Text),
            Some(_) => {
                return Err(ConfigError::Env {
                    name: "FIELDKIT_LOG_FORMAT",
                    reason: "json or text".into(),
                })
            }
        };
        Ok(Self {
            listen: parsed("FIELDKIT_LISTEN", get("FIELDKIT_LISTEN"))?,
            ops_listen: parsed("FIELDKIT_OPS_LISTEN", get("FIELDKIT_OPS_LISTEN"))?,
            data_dir: get("FIELDKIT_DATA_DIR").map(PathBuf::from),
            database_url: get("FIELDKIT_DATABASE_URL"),
            public_base_url: get("FIELDKIT_PUBLIC_BASE_URL"),
            tls_cert: get("FIELDKIT_TLS_CERT").map(PathBuf::from),
            tls_key: get("FIELDKIT_TLS_KEY").map(PathBuf::from),
            insecure_allow_plain_http: parsed(
                "FIELDKIT_INSECURE_ALLOW_PLAIN_HTTP",
                get("FIELDKIT_INSECURE_ALLOW_PLAIN_HTTP"),
            )?,
            master_key_file: get("FIELDKIT_MASTER_KEY_FILE").map(PathBuf::from),
            allow_master_key_in_data_dir: parsed(
                "FIELDKIT_ALLOW_MASTER_KEY_IN_DATA_DIR",
                get("FIELDKIT_ALLOW_MASTER_KEY_IN_DATA_DIR"),
            )?,
            enrolment_code_ttl_hours: parsed(
                "FIELDKIT_ENROLMENT_CODE_TTL_HOURS",
                get("FIELDKIT_ENROLMENT_CODE_TTL_HOURS"),
            )?,
            shutdown_grace_seconds: parsed(
                "FIELDKIT_SHUTDOWN_GRACE_SECONDS",
                get("FIELDKIT_SHUTDOWN_GRACE_SECONDS"),
            )?,
            log_format,
            database_pool_size: parsed(
                "FIELDKIT_DATABASE_POOL_SIZE",
                get("FIELDKIT_DATABASE_POOL_SIZE"),
            )?,
            header_read_timeout_seconds: parsed(
                "FIELDKIT_HEADER_READ_TIMEOUT_SECONDS",
                get("FIELDKIT_HEADER_READ_TIMEOUT_SECONDS"),
            )?,
            body_idle_timeout_seconds: parsed(
                "FIELDKIT_BODY_IDLE_TIMEOUT_SECONDS",
                get("FIELDKIT_BODY_IDLE_TIMEOUT_SECONDS"),
            )?,
            request_timeout_seconds: parsed(
                "FIELDKIT_REQUEST_TIMEOUT_SECONDS",
                get("FIELDKIT_REQUEST_TIMEOUT_SECONDS"),
            )?,
            max_connections: parsed("FIELDKIT_MAX_CONNECTIONS", get("FIELDKIT_MAX_CONNECTIONS"))?,
            max_requests_per_kit: parsed(
                "FIELDKIT_MAX_REQUESTS_PER_KIT",
                get("FIELDKIT_MAX_REQUESTS_PER_KIT"),
            )?,
            quota_records_per_day: parsed(
                "FIELDKIT_QUOTA_RECORDS_PER_DAY",
                get("FIELDKIT_QUOTA_RECORDS_PER_DAY"),
            )?,
            quota_pending_upload_mib: parsed(
                "FIELDKIT_QUOTA_PENDING_UPLOAD_MIB",
                get("FIELDKIT_QUOTA_PENDING_UPLOAD_MIB"),
            )?,
            blobs: BlobsLayer::from_env(&get)?.map(Box::new),
        })
    }

    /// `self` over `lower`: each field of `self` that is set wins.
    pub fn over(self, lower: Self) -> Self {
        Self {
            listen: self.listen.or(lower.listen),
            ops_listen: self.ops_listen.or(lower.ops_listen),
            data_dir: self.data_dir.or(lower.data_dir),
            database_url: self.database_url.or(lower.database_url),
            public_base_url: self.public_base_url.or(lower.public_base_url),
            tls_cert: self.tls_cert.or(lower.tls_cert),
            tls_key: self.tls_key.or(lower.tls_key),
            insecure_allow_plain_http: self
                .insecure_allow_plain_http
                .or(lower.insecure_allow_plain_http),
            master_key_file: self.master_key_file.or(lower.master_key_file),
            allow_master_key_in_data_dir: self
                .allow_master_key_in_data_dir
                .or(lower.allow_master_key_in_data_dir),
            enrolment_code_ttl_hours: self
                .enrolment_code_ttl_hours
                .or(lower.enrolment_code_ttl_hours),
            shutdown_grace_seconds: self.shutdown_grace_seconds.or(lower.shutdown_grace_seconds),
            log_format: self.log_format.or(lower.log_format),
            database_pool_size: self.database_pool_size.or(lower.database_pool_size),
            header_read_timeout_seconds: self
                .header_read_timeout_seconds
                .or(lower.header_read_timeout_seconds),
            body_idle_timeout_seconds: self
                .body_idle_timeout_seconds
                .or(lower.body_idle_timeout_seconds),
            request_timeout_seconds: self
                .request_timeout_seconds
                .or(lower.request_timeout_seconds),
            max_connections: self.max_connections.or(lower.max_connections),
            max_requests_per_kit: self.max_requests_per_kit.or(lower.max_requests_per_kit),
            quota_records_per_day: self.quota_records_per_day.or(lower.quota_records_per_day),
            quota_pending_upload_mib: self
                .quota_pending_upload_mib
                .or(lower.quota_pending_upload_mib),
            blobs: crate::blobs::config::merge(self.blobs, lower.blobs),
        }
    }

    /// Defaults, then the file (if any), then the environment, then `flags`.
    ///
    /// # Errors
    /// As [`ConfigLayer::from_file`] and [`ConfigLayer::from_env`].
    pub fn layered(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
        flags: Self,
    ) -> Result<Self, ConfigError> {
        let file_layer = match file {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        Ok(flags.over(Self::from_env(env)?.over(file_layer.over(Self::defaults()))))
    }
}

/// Where the data lives.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file (embedded).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `postgres://…`/`postgresql://…` or `sqlite://PATH`; anything else is refused.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`].
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_owned()))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            Ok(Self::Sqlite(PathBuf::from(path)))
        } else {
            Err(ConfigError::Invalid(
                "database URL must start with postgres://, postgresql:// or sqlite://".into(),
            ))
        }
    }

    /// The embedded database of a data folder.
    pub fn embedded(data_dir: &Path) -> Self {
        Self::Sqlite(data_dir.join("fieldkit.sqlite3"))
    }

    /// Whether this is the embedded SQLite store.
    pub fn is_embedded(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }
}

/// Never prints a PostgreSQL password.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
            Self::Postgres(url) => {
                let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
                match rest.rsplit_once('@') {
                    Some((_, host)) => write!(f, "{scheme}://<redacted>@{host}"),
                    None => write!(f, "{scheme}://{rest}"),
                }
            }
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Where the operations endpoints listen.
    pub ops_listen: SocketAddr,
    /// The data folder.
    pub data_dir: PathBuf,
    /// The database.
    pub database: DatabaseUrl,
    /// Scheme and authority kits use, without a trailing slash.
    pub public_base_url: String,
    /// Certificate chain and key, when TLS is served here.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// The master key file, if configured.
    pub master_key_file: Option<PathBuf>,
    /// Whether the master key may live in (or be generated into) the data folder.
    pub allow_master_key_in_data_dir: bool,
    /// Lifetime of enrolment codes.
    pub enrolment_code_ttl: chrono::Duration,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace: std::time::Duration,
    /// Log output format.
    pub log_format: LogFormat,
    /// PostgreSQL pool size.
    pub database_pool_size: usize,
    /// Timeouts and caps of the HTTP layer.
    pub limits: Limits,
    /// Where attachment bytes live.
    pub blobs: BlobConfig,
}

/// Timeouts and caps that keep clients — honest, slow or hostile — from holding the
/// server's memory or connections (backend/README.md, "Limits"; the kit-visible answers
/// are in PROTOCOL.md §6.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Time for the request head of each request (hyper's `header_read_timeout`); also
    /// how long an idle keep-alive connection stays open.
    pub header_read_timeout: std::time::Duration,
    /// Longest pause inside a request body (tower-http `RequestBodyTimeoutLayer`).
    pub body_idle_timeout: std::time::Duration,
    /// Longest time for a whole request (tower-http `TimeoutLayer`).
    pub request_timeout: std::time::Duration,
    /// Open connections at most.
    pub max_connections: usize,
    /// Requests of one kit in flight at most.
    pub max_requests_per_kit: usize,
    /// Records one kit may deliver within 24 hours.
    pub quota_records_per_day: u64,
    /// Bytes of announced, not yet uploaded attachments one kit may have.
    pub quota_pending_upload_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: std::time::Duration::from_secs(10),
            body_idle_timeout: std::time::Duration::from_secs(15),
            request_timeout: std::time::Duration::from_secs(120),
            max_connections: 512,
            max_requests_per_kit: 4,
            quota_records_per_day: 2000,
            quota_pending_upload_bytes: 8192 * 1024 * 1024,
        }
    }
}

impl Limits {
    fn resolve(layer: &ConfigLayer) -> Result<Self, ConfigError> {
        let d = Self::default();
        let secs = |name: &str, v: Option<u64>, default: std::time::Duration| match v {
            Some(0) => Err(ConfigError::Invalid(format!("{name} must be at least 1"))),
            Some(n) => Ok(std::time::Duration::from_secs(n)),
            None => Ok(default),
        };
        let count = |name: &str, v: Option<usize>, default: usize| match v {
            Some(0) => Err(ConfigError::Invalid(format!("{name} must be at least 1"))),
            Some(n) => Ok(n),
            None => Ok(default),
        };
        Ok(Self {
            header_read_timeout: secs(
                "header_read_timeout_seconds",
                layer.header_read_timeout_seconds,
                d.header_read_timeout,
            )?,
            body_idle_timeout: secs(
                "body_idle_timeout_seconds",
                layer.body_idle_timeout_seconds,
                d.body_idle_timeout,
            )?,
            request_timeout: secs(
                "request_timeout_seconds",
                layer.request_timeout_seconds,
                d.request_timeout,
            )?,
            max_connections: count("max_connections", layer.max_connections, d.max_connections)?,
            max_requests_per_kit: count(
                "max_requests_per_kit",
                layer.max_requests_per_kit,
                d.max_requests_per_kit,
            )?,
            quota_records_per_day: match layer.quota_records_per_day {
                Some(0) => {
                    return Err(ConfigError::Invalid(
                        "quota_records_per_day must be at least 1".into(),
                    ))
                }
                Some(n) => n,
                None => d.quota_records_per_day,
            },
            quota_pending_upload_bytes: match layer.quota_pending_upload_mib {
                Some(0) => {
                    return Err(ConfigError::Invalid(
                        "quota_pending_upload_mib must be at least 1".into(),
                    ))
                }
                Some(n) => n.saturating_mul(1024 * 1024),
                None => d.quota_pending_upload_bytes,
            },
        })
    }
}

/// Checks a public base URL: `http(s)://authority`, no path, query or trailing slash
/// (one trailing slash is removed).
///
/// # Errors
/// [`ConfigError::Invalid`].
pub fn normalize_base_url(url: &str) -> Result<String, ConfigError> {
    let url = url.strip_suffix('/').unwrap_or(url);
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| ConfigError::Invalid("public_base_url must start with https://".into()))?;
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
        return Err(ConfigError::Invalid(
            "public_base_url is scheme and host only, e.g. https://fieldkit.example.org".into(),
        ));
    }
    Ok(url.to_owned())
}

impl Config {
    /// Validates a merged layer.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the rule that is broken.
    pub fn resolve(layer: ConfigLayer) -> Result<Self, ConfigError> {
        let limits = Limits::resolve(&layer)?;
        let missing = |what: &str| ConfigError::Invalid(format!("{what} is not set"));
        let listen = layer.listen.ok_or_else(|| missing("listen"))?;
        let ops_listen = layer.ops_listen.ok_or_else(|| missing("ops_listen"))?;
        if ops_listen == listen && listen.port() != 0 {
            return Err(ConfigError::Invalid(
                "ops_listen must differ from listen: metrics and the API document are not \
                 served to the public"
                    .into(),
            ));
        }
        let data_dir = layer.data_dir.ok_or_else(|| missing("data_dir"))?;
        let database = match &layer.database_url {
            Some(url) => DatabaseUrl::parse(url)?,
            None => DatabaseUrl::embedded(&data_dir),
        };
        let tls = match (layer.tls_cert, layer.tls_key) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => {
                return Err(ConfigError::Invalid(
                    "tls_cert and tls_key must be given together".into(),
                ))
            }
        };
        if tls.is_none()
            && !listen.ip().is_loopback()
            && !layer.insecure_allow_plain_http.unwrap_or(false)
        {
            return Err(ConfigError::Invalid(format!(
                "refusing plain HTTP on {listen}: configure tls_cert and tls_key, listen on a \
                 loopback address, or pass --insecure-allow-plain-http behind a TLS proxy"
            )));
        }
        let scheme = if tls.is_some() { "https" } else { "http" };
        let public_base_url = normalize_base_url(
            &layer
                .public_base_url
                .unwrap_or_else(|| format!("{scheme}://{listen}")),
        )?;
        let blobs = BlobConfig::resolve(layer.blobs.as_deref(), &data_dir)?;
        let ttl_hours = layer.enrolment_code_ttl_hours.unwrap_or(72);
        if ttl_hours == 0 {
            return Err(ConfigError::Invalid(
                "enrolment_code_ttl_hours must be at least 1".into(),
            ));
        }
        Ok(Self {
            listen,
            ops_listen,
            data_dir,
            database,
            public_base_url,
            tls,
            master_key_file: layer.master_key_file,
            allow_master_key_in_data_dir: layer.allow_master_key_in_data_dir.unwrap_or(false),
            enrolment_code_ttl: chrono::Duration::hours(i64::from(ttl_hours)),
            shutdown_grace: std::time::Duration::from_secs(
                layer.shutdown_grace_seconds.unwrap_or(30),
            ),
            log_format: layer.log_format.unwrap_or(LogFormat::Json),
            database_pool_size: layer.database_pool_size.unwrap_or(16).max(1),
            limits,
            blobs,
        })
    }
}

/// Refuses a master key file inside the data folder unless the configuration allows it
/// (a demo set-up): a copy of the folder — a backup, a stolen disk — must not carry the
/// key that opens its keys.
///
/// # Errors
/// [`ConfigError::Invalid`] saying where to keep the key instead.
pub fn check_master_key_place(
    key_file: &Path,
    data_dir: &Path,
    allowed: bool,
) -> Result<(), ConfigError> {
    let absolute = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    if allowed || !absolute(key_file).starts_with(absolute(data_dir)) {
        return Ok(());
    }
    Err(ConfigError::Invalid(format!(
        "Der Hauptschlüssel {} liegt im Datenordner {}: jede Kopie des Ordners trüge den \
         Schlüssel, der ihn öffnet. Legen Sie ihn außerhalb ab (z. B. \
         /etc/fieldkit/master.key, nur für den Dienst lesbar, per master_key_file) oder \
         übergeben Sie ihn in FIELDKIT_MASTER_KEY; nur für eine Demo: \
         allow_master_key_in_data_dir = true. / The master key {} is inside the data \
         folder {}: keep it elsewhere (e.g. /etc/fieldkit/master.key, mode 0600, via \
         master_key_file) or pass it in FIELDKIT_MASTER_KEY; for a demo only: \
         allow_master_key_in_data_dir = true.",
        key_file.display(),
        data_dir.display(),
        key_file.display(),
        data_dir.display()
    )))
}

/// An environment variable's value parsed as `T`; `None` when it is not set.
///
/// # Errors
/// [`ConfigError::Env`] naming the variable when the value does not parse.
pub(crate) fn parsed<T: std::str::FromStr>(
    name: &'static str,
    value: Option<String>,
) -> Result<Option<T>, ConfigError>
where
    T::Err: fmt::Display,
{
    value
        .map(|v| {
            v.parse::<T>().map_err(|e| ConfigError::Env {
                name,
                reason: e.to_string(),
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_password_never_appears_in_debug_output() {
        let url = DatabaseUrl::Postgres("postgres://fk:s3cret@db.example:5432/fk".into());
        let shown = format!("{url:?} {url}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("db.example:5432/fk"));
    }

    #[test]
    fn base_urls_are_scheme_and_host_only() {
        assert_eq!(
            normalize_base_url("https://fk.example/").ok().as_deref(),
            Some("https://fk.example")
        );
        assert!(normalize_base_url("https://fk.example/api").is_err());
        assert!(normalize_base_url("ftp://fk.example").is_err());
    }
}
