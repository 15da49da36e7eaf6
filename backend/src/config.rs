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
}

impl ConfigLayer {
    /// The built-in defaults.
    pub fn defaults() -> Self {
        Self {
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 8080))),
            data_dir: Some(PathBuf::from("fieldkit-data")),
            insecure_allow_plain_http: Some(false),
            enrolment_code_ttl_hours: Some(72),
            shutdown_grace_seconds: Some(30),
            log_format: Some(LogFormat::Json),
            database_pool_size: Some(16),
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
        fn parsed<T: std::str::FromStr>(
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
        })
    }

    /// `self` over `lower`: each field of `self` that is set wins.
    pub fn over(self, lower: Self) -> Self {
        Self {
            listen: self.listen.or(lower.listen),
            data_dir: self.data_dir.or(lower.data_dir),
            database_url: self.database_url.or(lower.database_url),
            public_base_url: self.public_base_url.or(lower.public_base_url),
            tls_cert: self.tls_cert.or(lower.tls_cert),
            tls_key: self.tls_key.or(lower.tls_key),
            insecure_allow_plain_http: self
                .insecure_allow_plain_http
                .or(lower.insecure_allow_plain_http),
            master_key_file: self.master_key_file.or(lower.master_key_file),
            enrolment_code_ttl_hours: self
                .enrolment_code_ttl_hours
                .or(lower.enrolment_code_ttl_hours),
            shutdown_grace_seconds: self.shutdown_grace_seconds.or(lower.shutdown_grace_seconds),
            log_format: self.log_format.or(lower.log_format),
            database_pool_size: self.database_pool_size.or(lower.database_pool_size),
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
    /// Lifetime of enrolment codes.
    pub enrolment_code_ttl: chrono::Duration,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace: std::time::Duration,
    /// Log output format.
    pub log_format: LogFormat,
    /// PostgreSQL pool size.
    pub database_pool_size: usize,
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
        let missing = |what: &str| ConfigError::Invalid(format!("{what} is not set"));
        let listen = layer.listen.ok_or_else(|| missing("listen"))?;
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
        let ttl_hours = layer.enrolment_code_ttl_hours.unwrap_or(72);
        if ttl_hours == 0 {
            return Err(ConfigError::Invalid(
                "enrolment_code_ttl_hours must be at least 1".into(),
            ));
        }
        Ok(Self {
            listen,
            data_dir,
            database,
            public_base_url,
            tls,
            master_key_file: layer.master_key_file,
            enrolment_code_ttl: chrono::Duration::hours(i64::from(ttl_hours)),
            shutdown_grace: std::time::Duration::from_secs(
                layer.shutdown_grace_seconds.unwrap_or(30),
            ),
            log_format: layer.log_format.unwrap_or(LogFormat::Json),
            database_pool_size: layer.database_pool_size.unwrap_or(16).max(1),
        })
    }
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
