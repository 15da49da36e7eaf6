//! A fresh bucket for one scenario on the S3-compatible test server `scripts/test.sh`
//! starts (moto, `FIELDKIT_TEST_S3_URL`): the `FIELDKIT_BLOBS_*` settings that point a
//! backend node at it, and the same place as a [`BlobConfig`] for the end-state check.
//! The server keeps its buckets in memory; they go when it stops.

use std::io::{Read as _, Write as _};
use std::time::Duration;

use fieldkit_backend::blobs::{BlobConfig, S3Config};

/// The variable naming the test server (`http://127.0.0.1:PORT`).
pub const S3_ENV: &str = "FIELDKIT_TEST_S3_URL";

/// Credentials the test server accepts (it checks none).
const ACCESS_KEY_ID: &str = "fieldkit-test";
const SECRET_ACCESS_KEY: &str = "fieldkit-test-secret";

/// A bucket created for one scenario.
pub struct Bucket {
    /// The server's URL.
    pub endpoint: String,
    /// The bucket's name.
    pub name: String,
}

impl Bucket {
    /// A new bucket, or `None` when no test server is configured. Under CI (`CI` set) a
    /// missing server is an error, never a silent skip (as for PostgreSQL,
    /// [`super::pg::Schema::create`]).
    ///
    /// # Panics
    /// Under CI without `FIELDKIT_TEST_S3_URL`; when the server is unreachable or refuses
    /// the bucket.
    pub fn create() -> Option<Self> {
        let endpoint = match std::env::var(S3_ENV) {
            Ok(url) if !url.is_empty() => url.trim_end_matches('/').to_owned(),
            _ => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "{S3_ENV} must be set under CI (scripts/test.sh starts moto's S3 server)"
                );
                return None;
            }
        };
        let name = format!("fk-e2e-{}", uuid::Uuid::new_v4().simple());
        put_bucket(&endpoint, &name);
        Some(Self { endpoint, name })
    }

    /// The settings that make a backend keep its attachments in this bucket.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("FIELDKIT_BLOBS_KIND", "s3".to_owned()),
            ("FIELDKIT_BLOBS_ENDPOINT", self.endpoint.clone()),
            ("FIELDKIT_BLOBS_BUCKET", self.name.clone()),
            ("FIELDKIT_BLOBS_ACCESS_KEY_ID", ACCESS_KEY_ID.to_owned()),
            (
                "FIELDKIT_BLOBS_SECRET_ACCESS_KEY",
                SECRET_ACCESS_KEY.to_owned(),
            ),
        ]
    }

    /// The same place as the backend's own configuration, to read it with
    /// [`fieldkit_backend::blobs::BlobStore`].
    pub fn config(&self) -> BlobConfig {
        BlobConfig::S3(S3Config::new(
            &self.endpoint,
            &self.name,
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
        ))
    }
}

/// `PUT /<bucket>` over plain HTTP/1.1 (the test server creates buckets unsigned; no
/// HTTP client library needed).
fn put_bucket(endpoint: &str, name: &str) {
    let authority = endpoint
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("{S3_ENV} is http://HOST:PORT, not {endpoint}"));
    let mut stream = std::net::TcpStream::connect(authority)
        .unwrap_or_else(|e| panic!("the S3 test server at {endpoint} is unreachable: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "PUT /{name} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("create bucket request");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200"),
        "creating bucket {name} on {endpoint}: {}",
        answer.lines().next().unwrap_or("no answer")
    );
}
