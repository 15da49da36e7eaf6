//! `[blobs]`: where attachment bytes live, as one more layer of the configuration
//! ([`crate::config`]): the data folder (default) or an S3-compatible bucket. Keys in the
//! TOML file's `[blobs]` table, or `FIELDKIT_BLOBS_<KEY>` in the environment.
//!
//! Credentials never come from the TOML file (a config file is shown, copied and
//! committed): the key pair is read from `FIELDKIT_BLOBS_ACCESS_KEY_ID` +
//! `FIELDKIT_BLOBS_SECRET_ACCESS_KEY` or from `credentials_file`, and both halves are
//! redacted in `Debug` output.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::config::{parsed, ConfigError};

/// Which store holds attachment bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlobKind {
    /// Files under the data folder (embedded set-ups; one machine).
    Filesystem,
    /// An S3-compatible bucket (several backend machines).
    S3,
}

/// A secret string: zeroized on drop, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret.
    pub fn new(text: String) -> Self {
        Self(Zeroizing::new(text))
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The `[blobs]` layer: every field optional, merged like the rest of the configuration.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlobsLayer {
    /// `filesystem` (default) or `s3`.
    pub kind: Option<BlobKind>,
    /// S3 endpoint URL (e.g. `https://s3.internal:9000`); AWS when unset.
    pub endpoint: Option<String>,
    /// S3 bucket (must exist).
    pub bucket: Option<String>,
    /// S3 region; `us-east-1` when unset (most S3-compatible servers ignore it).
    pub region: Option<String>,
    /// Path-style requests (`endpoint/bucket/key`), as most S3-compatible servers want;
    /// default true. False: virtual-hosted style (`bucket.endpoint/key`).
    pub path_style: Option<bool>,
    /// A key prefix inside the bucket, so that one bucket can serve several
    /// installations.
    pub prefix: Option<String>,
    /// Plain `http://` to a non-loopback endpoint (the attachments are ciphertext, but the
    /// request signatures and metadata are not). Loopback endpoints may always be http.
    pub allow_http: Option<bool>,
    /// TOML file with `access_key_id` and `secret_access_key` (mode 0600).
    pub credentials_file: Option<PathBuf>,
    /// Longest time of one request to the store, body included.
    pub timeout_seconds: Option<u64>,
    /// Longest time to connect to the store.
    pub connect_timeout_seconds: Option<u64>,
    /// From `FIELDKIT_BLOBS_ACCESS_KEY_ID` only.
    #[serde(skip)]
    pub access_key_id: Option<Secret>,
    /// From `FIELDKIT_BLOBS_SECRET_ACCESS_KEY` only.
    #[serde(skip)]
    pub secret_access_key: Option<Secret>,
}

impl BlobsLayer {
    /// Reads the `FIELDKIT_BLOBS_*` variables; `None` when none is set.
    ///
    /// # Errors
    /// [`ConfigError::Env`] for a value of the wrong type.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        let kind = match get("FIELDKIT_BLOBS_KIND").as_deref() {
            None => None,
            Some("filesystem") => Some(BlobKind::Filesystem),
            Some("s3") => Some(BlobKind::S3),
            Some(_) => {
                return Err(ConfigError::Env {
                    name: "FIELDKIT_BLOBS_KIND",
                    reason: "filesystem or s3".into(),
                })
            }
        };
        let layer = Self {
            kind,
            endpoint: get("FIELDKIT_BLOBS_ENDPOINT"),
            bucket: get("FIELDKIT_BLOBS_BUCKET"),
            region: get("FIELDKIT_BLOBS_REGION"),
            path_style: parsed(
                "FIELDKIT_BLOBS_PATH_STYLE",
                get("FIELDKIT_BLOBS_PATH_STYLE"),
            )?,
            prefix: get("FIELDKIT_BLOBS_PREFIX"),
            allow_http: parsed(
                "FIELDKIT_BLOBS_ALLOW_HTTP",
                get("FIELDKIT_BLOBS_ALLOW_HTTP"),
            )?,
            credentials_file: get("FIELDKIT_BLOBS_CREDENTIALS_FILE").map(PathBuf::from),
            timeout_seconds: parsed(
                "FIELDKIT_BLOBS_TIMEOUT_SECONDS",
                get("FIELDKIT_BLOBS_TIMEOUT_SECONDS"),
            )?,
            connect_timeout_seconds: parsed(
                "FIELDKIT_BLOBS_CONNECT_TIMEOUT_SECONDS",
                get("FIELDKIT_BLOBS_CONNECT_TIMEOUT_SECONDS"),
            )?,
            access_key_id: get("FIELDKIT_BLOBS_ACCESS_KEY_ID").map(Secret::new),
            secret_access_key: get("FIELDKIT_BLOBS_SECRET_ACCESS_KEY").map(Secret::new),
        };
        Ok((layer != Self::default()).then_some(layer))
    }

    /// `self` over `lower`: each field of `self` that is set wins.
    pub fn over(self, lower: Self) -> Self {
        Self {
            kind: self.kind.or(lower.kind),
            endpoint: self.endpoint.or(lower.endpoint),
            bucket: self.bucket.or(lower.bucket),
            region: self.region.or(lower.region),
            path_style: self.path_style.or(lower.path_style),
            prefix: self.prefix.or(lower.prefix),
            allow_http: self.allow_http.or(lower.allow_http),
            credentials_file: self.credentials_file.or(lower.credentials_file),
            timeout_seconds: self.timeout_seconds.or(lower.timeout_seconds),
            connect_timeout_seconds: self
                .connect_timeout_seconds
                .or(lower.connect_timeout_seconds),
            access_key_id: self.access_key_id.or(lower.access_key_id),
            secret_access_key: self.secret_access_key.or(lower.secret_access_key),
        }
    }
}

/// Merges two optional layers (`upper` wins field by field).
pub fn merge(
    upper: Option<Box<BlobsLayer>>,
    lower: Option<Box<BlobsLayer>>,
) -> Option<Box<BlobsLayer>> {
    match (upper, lower) {
        (Some(u), Some(l)) => Some(Box::new((*u).over(*l))),
        (u, l) => u.or(l),
    }
}

/// A validated S3 configuration.
#[derive(Clone)]
pub struct S3Config {
    /// Endpoint URL; `None` for AWS.
    pub endpoint: Option<String>,
    /// Bucket.
    pub bucket: String,
    /// Region.
    pub region: String,
    /// Path-style requests.
    pub path_style: bool,
    /// Key prefix inside the bucket (no leading or trailing `/`), if any.
    pub prefix: Option<String>,
    /// Whether the client may use `http://`: set by `allow_http`, or because the
    /// endpoint is a loopback `http://` address.
    pub allow_http: bool,
    /// Access key id.
    pub access_key_id: Secret,
    /// Secret access key.
    pub secret_access_key: Secret,
    /// Longest time of one request.
    pub timeout: Duration,
    /// Longest time to connect.
    pub connect_timeout: Duration,
}

/// Never prints the credentials.
impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("path_style", &self.path_style)
            .field("prefix", &self.prefix)
            .field("allow_http", &self.allow_http)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

impl S3Config {
    /// An S3 configuration for tests and tools: path style, `us-east-1`, http allowed,
    /// the given credentials, default timeouts.
    pub fn new(endpoint: &str, bucket: &str, access_key_id: &str, secret: &str) -> Self {
        Self {
            endpoint: Some(endpoint.to_owned()),
            bucket: bucket.to_owned(),
            region: DEFAULT_REGION.to_owned(),
            path_style: true,
            prefix: None,
            allow_http: true,
            access_key_id: Secret::new(access_key_id.to_owned()),
            secret_access_key: Secret::new(secret.to_owned()),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }
}

/// Where attachment bytes live, validated.
#[derive(Debug, Clone)]
pub enum BlobConfig {
    /// `attachments/` and `uploads/` under this folder (the data folder).
    Filesystem(PathBuf),
    /// An S3-compatible bucket.
    S3(S3Config),
}

const DEFAULT_REGION: &str = "us-east-1";
/// Default longest time of one request to the object store.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default longest time to connect to the object store.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What a credentials file must hold (said instead of the parser's message, which could
/// quote the secret).
const CREDENTIALS_FORMAT: &str =
    "expected access_key_id = \"…\" and secret_access_key = \"…\", nothing else";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialsFile {
    access_key_id: String,
    secret_access_key: String,
}

fn invalid(what: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(what.into())
}

fn seconds(name: &str, value: Option<u64>, default: Duration) -> Result<Duration, ConfigError> {
    match value {
        Some(0) => Err(invalid(format!("blobs.{name} must be at least 1"))),
        Some(n) => Ok(Duration::from_secs(n)),
        None => Ok(default),
    }
}

/// Whether an `http://` URL names a loopback host.
fn is_loopback_http(endpoint: &str) -> bool {
    let Some(rest) = endpoint.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The key pair from the environment, or else from the credentials file.
fn credentials(
    id: Option<Secret>,
    secret: Option<Secret>,
    file: Option<&Path>,
) -> Result<(Secret, Secret), ConfigError> {
    match (id, secret, file) {
        (Some(id), Some(secret), _) => Ok((id, secret)),
        (None, None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.display().to_string(),
                source,
            })?;
            let text = Zeroizing::new(text);
            let file: CredentialsFile = toml::from_str(&text).map_err(|_| ConfigError::Parse {
                path: path.display().to_string(),
                reason: CREDENTIALS_FORMAT.into(),
            })?;
            Ok((
                Secret::new(file.access_key_id),
                Secret::new(file.secret_access_key),
            ))
        }
        (None, None, None) => Err(invalid(
            "S3 credentials missing: set FIELDKIT_BLOBS_ACCESS_KEY_ID and \
             FIELDKIT_BLOBS_SECRET_ACCESS_KEY, or blobs.credentials_file",
        )),
        _ => Err(invalid(
            "set both FIELDKIT_BLOBS_ACCESS_KEY_ID and FIELDKIT_BLOBS_SECRET_ACCESS_KEY",
        )),
    }
}

impl BlobConfig {
    /// Validates the merged `[blobs]` layer; the filesystem store lives in `data_dir`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the rule that is broken; [`ConfigError::Read`] or
    /// [`ConfigError::Parse`] for the credentials file.
    pub fn resolve(layer: Option<&BlobsLayer>, data_dir: &Path) -> Result<Self, ConfigError> {
        let layer = layer.cloned().unwrap_or_default();
        if layer.kind != Some(BlobKind::S3) {
            // An S3 setting without `kind = "s3"` is a mistake that would split the
            // attachments of a multi-machine set-up over local disks: refuse it.
            let s3_only = [
                ("endpoint", layer.endpoint.is_some()),
                ("bucket", layer.bucket.is_some()),
                ("region", layer.region.is_some()),
                ("prefix", layer.prefix.is_some()),
                ("credentials_file", layer.credentials_file.is_some()),
                ("access key", layer.access_key_id.is_some()),
            ];
            if let Some((name, _)) = s3_only.iter().find(|(_, set)| *set) {
                return Err(invalid(format!(
                    "blobs.{name} is set but blobs.kind is not \"s3\""
                )));
            }
            return Ok(Self::Filesystem(data_dir.to_path_buf()));
        }
        let bucket = layer
            .bucket
            .filter(|b| !b.is_empty())
            .ok_or_else(|| invalid("blobs.bucket is not set (kind = \"s3\")"))?;
        let mut allow_http = layer.allow_http.unwrap_or(false);
        if let Some(endpoint) = &layer.endpoint {
            let http = endpoint.starts_with("http://");
            if !http && !endpoint.starts_with("https://") {
                return Err(invalid(
                    "blobs.endpoint must start with https:// or http://",
                ));
            }
            if http && !allow_http && !is_loopback_http(endpoint) {
                return Err(invalid(
                    "blobs.endpoint is plain http:// on a non-loopback host: use https:// or \
                     set blobs.allow_http = true on a private network",
                ));
            }
            // What the check lets through, the client must be allowed to use: a loopback
            // endpoint over http:// (a store on the same machine) needs no switch.
            allow_http |= http && is_loopback_http(endpoint);
        }
        let (access_key_id, secret_access_key) = credentials(
            layer.access_key_id,
            layer.secret_access_key,
            layer.credentials_file.as_deref(),
        )?;
        let prefix = layer
            .prefix
            .map(|p| p.trim_matches('/').to_owned())
            .filter(|p| !p.is_empty());
        Ok(Self::S3(S3Config {
            endpoint: layer.endpoint,
            bucket,
            region: layer.region.unwrap_or_else(|| DEFAULT_REGION.to_owned()),
            path_style: layer.path_style.unwrap_or(true),
            prefix,
            allow_http,
            access_key_id,
            secret_access_key,
            timeout: seconds("timeout_seconds", layer.timeout_seconds, DEFAULT_TIMEOUT)?,
            connect_timeout: seconds(
                "connect_timeout_seconds",
                layer.connect_timeout_seconds,
                DEFAULT_CONNECT_TIMEOUT,
            )?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn s3_credentials_never_appear_in_debug_output() {
        let layer = BlobsLayer::from_env(env(&[
            ("FIELDKIT_BLOBS_KIND", "s3"),
            ("FIELDKIT_BLOBS_BUCKET", "fk"),
            ("FIELDKIT_BLOBS_ACCESS_KEY_ID", "AKIDSECRETID"),
            ("FIELDKIT_BLOBS_SECRET_ACCESS_KEY", "wJalrSECRETKEY"),
        ]))
        .expect("env")
        .expect("set");
        let config = BlobConfig::resolve(Some(&layer), Path::new("/d")).expect("valid");
        let shown = format!("{layer:?} {config:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("fk"));
    }

    #[test]
    fn filesystem_is_the_default_and_s3_settings_need_kind_s3() {
        assert!(matches!(
            BlobConfig::resolve(None, Path::new("/d")),
            Ok(BlobConfig::Filesystem(p)) if p == Path::new("/d")
        ));
        let stray = BlobsLayer {
            bucket: Some("fk".into()),
            ..BlobsLayer::default()
        };
        assert!(BlobConfig::resolve(Some(&stray), Path::new("/d")).is_err());
        assert_eq!(BlobsLayer::from_env(env(&[])).expect("env"), None);
    }

    #[test]
    fn s3_needs_a_bucket_credentials_and_https_off_loopback() {
        let s3 = |endpoint: &str, allow_http: Option<bool>| BlobsLayer {
            kind: Some(BlobKind::S3),
            bucket: Some("fk".into()),
            endpoint: Some(endpoint.into()),
            allow_http,
            access_key_id: Some(Secret::new("id".into())),
            secret_access_key: Some(Secret::new("secret".into())),
            ..BlobsLayer::default()
        };
        let ok = |l: &BlobsLayer| BlobConfig::resolve(Some(l), Path::new("/d")).is_ok();
        assert!(ok(&s3("https://s3.internal", None)));
        assert!(ok(&s3("http://127.0.0.1:9000", None)));
        assert!(ok(&s3("http://[::1]:9000", None)));
        assert!(ok(&s3("http://localhost:9000", None)));
        assert!(!ok(&s3("http://s3.internal:9000", None)));
        assert!(ok(&s3("http://s3.internal:9000", Some(true))));
        assert!(!ok(&s3("ftp://s3.internal", None)));
        // What the check lets through, the client may use (the backend's S3 client
        // refused loopback http:// that the check had accepted).
        let http_allowed = |l: &BlobsLayer| match BlobConfig::resolve(Some(l), Path::new("/d")) {
            Ok(BlobConfig::S3(c)) => c.allow_http,
            other => panic!("{other:?}"),
        };
        assert!(http_allowed(&s3("http://127.0.0.1:9000", None)));
        assert!(!http_allowed(&s3("https://s3.internal", None)));
        let mut no_bucket = s3("https://s3.internal", None);
        no_bucket.bucket = None;
        assert!(!ok(&no_bucket));
        let mut half = s3("https://s3.internal", None);
        half.secret_access_key = None;
        assert!(!ok(&half));
        let mut zero = s3("https://s3.internal", None);
        zero.timeout_seconds = Some(0);
        assert!(!ok(&zero));
    }

    #[test]
    fn credentials_come_from_a_file_whose_content_is_never_echoed() {
        let dir = tempfile::tempdir().expect("dir");
        let good = dir.path().join("good.toml");
        std::fs::write(
            &good,
            "access_key_id = \"AKID\"\nsecret_access_key = \"TOPSECRET\"\n",
        )
        .expect("write");
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "secret_access_key = TOPSECRET\n").expect("write");
        let layer = |path: &Path| BlobsLayer {
            kind: Some(BlobKind::S3),
            bucket: Some("fk".into()),
            credentials_file: Some(path.to_path_buf()),
            ..BlobsLayer::default()
        };
        match BlobConfig::resolve(Some(&layer(&good)), dir.path()) {
            Ok(BlobConfig::S3(s3)) => {
                assert_eq!(s3.access_key_id.expose(), "AKID");
                assert_eq!(s3.secret_access_key.expose(), "TOPSECRET");
            }
            other => panic!("{other:?}"),
        }
        let refused = BlobConfig::resolve(Some(&layer(&bad)), dir.path())
            .expect_err("malformed")
            .to_string();
        assert!(!refused.contains("TOPSECRET"), "{refused}");
    }
}
