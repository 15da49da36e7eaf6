//! The S3 side of the tests: a fresh bucket per backend on the S3-compatible server of
//! `FIELDKIT_TEST_S3_URL` (moto, started by `scripts/test.sh`), reads, writes and
//! deletes that go around the backend (object_store's client alone, or the file system),
//! and
//! [`Gate`], a loopback TCP forwarder in front of the server that a test can make refuse
//! or stall connections — the object store going away and coming back, without stopping
//! the server other tests share.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use fieldkit_backend::blobs::parts;
use fieldkit_backend::blobs::BlobConfig;
use futures_util::StreamExt as _;
use object_store::path::Path;
use object_store::{ObjectStore as _, ObjectStoreExt as _};
use sync_protocol::ids::{AttachmentId, Sha256Hash};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Credentials the test server accepts (it checks none).
pub const ACCESS_KEY_ID: &str = "fieldkit-test";
/// See [`ACCESS_KEY_ID`].
pub const SECRET_ACCESS_KEY: &str = "fieldkit-test-secret";

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Creates a bucket with a new name on the server at `url`; returns the name.
pub async fn fresh_bucket(url: &str) -> String {
    let bucket = format!("fk-{}", uuid::Uuid::new_v4().simple());
    let resp = client()
        .put(format!("{url}/{bucket}"))
        .send()
        .await
        .expect("S3 test server answers");
    assert!(resp.status().is_success(), "create bucket: {resp:?}");
    bucket
}

/// A client of the test bucket that is not the backend's: object_store's S3 client on
/// its own (the test server wants signed requests), none of the backend's rules.
fn raw(config: &BlobConfig) -> Option<object_store::aws::AmazonS3> {
    let BlobConfig::S3(c) = config else {
        return None;
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    Some(
        object_store::aws::AmazonS3Builder::new()
            .with_endpoint(c.endpoint.as_deref().expect("test endpoint"))
            .with_bucket_name(&c.bucket)
            .with_region(&c.region)
            .with_access_key_id(c.access_key_id.expose())
            .with_secret_access_key(c.secret_access_key.expose())
            .with_allow_http(true)
            .build()
            .expect("S3 client"),
    )
}

fn local(config: &BlobConfig, key: &str) -> Option<PathBuf> {
    match config {
        BlobConfig::Filesystem(root) => Some(root.join(key)),
        BlobConfig::S3(_) => None,
    }
}

fn part_key(a: &AttachmentId, start: u64) -> String {
    format!("uploads/{a}/{}", parts::name(start))
}

fn attachment_key(hash: &Sha256Hash) -> String {
    let hex = hash.to_hex();
    format!("attachments/{}/{hex}", &hex[..2])
}

/// Deletes the part of upload `a` starting at `start`, behind the backend's back.
pub async fn delete_part(config: &BlobConfig, a: &AttachmentId, start: u64) {
    let key = part_key(a, start);
    match raw(config) {
        None => std::fs::remove_file(local(config, &key).expect("local")).expect("part file"),
        Some(s3) => s3.delete(&Path::from(key)).await.expect("delete part"),
    }
}

/// Replaces the part of upload `a` starting at `start` with `bytes`, behind the
/// backend's back.
pub async fn put_part(config: &BlobConfig, a: &AttachmentId, start: u64, bytes: Vec<u8>) {
    let key = part_key(a, start);
    match raw(config) {
        None => std::fs::write(local(config, &key).expect("local"), bytes).expect("part file"),
        Some(s3) => {
            s3.put(&Path::from(key), bytes.into())
                .await
                .expect("put part");
        }
    }
}

/// The stored object of a verified ciphertext, read around the backend; `None` if absent.
pub async fn stored(config: &BlobConfig, hash: &Sha256Hash) -> Option<Vec<u8>> {
    let key = attachment_key(hash);
    let Some(s3) = raw(config) else {
        return std::fs::read(local(config, &key).expect("local")).ok();
    };
    match s3.get(&Path::from(key)).await {
        Ok(got) => Some(got.bytes().await.expect("body").to_vec()),
        Err(object_store::Error::NotFound { .. }) => None,
        Err(e) => panic!("reading the test bucket: {e}"),
    }
}

/// How many part objects upload `a` has.
pub async fn part_count(config: &BlobConfig, a: &AttachmentId) -> usize {
    let prefix = format!("uploads/{a}/");
    let Some(s3) = raw(config) else {
        return std::fs::read_dir(local(config, &prefix).expect("local"))
            .map_or(0, Iterator::count);
    };
    let listed: Vec<_> = s3.list(Some(&Path::from(prefix))).collect().await;
    let listed: Result<Vec<_>, _> = listed.into_iter().collect();
    listed.expect("listing").len()
}

/// What a [`Gate`] does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward to the server.
    Open,
    /// Close every connection at once (an object store that is down).
    Refuse,
    /// Accept and never answer (an object store that hangs).
    Stall,
}

/// A TCP forwarder on `127.0.0.1:0` in front of the S3 test server.
pub struct Gate {
    addr: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Gate {
    /// A gate in front of the server at `url` (`http://host:port`), open.
    pub async fn new(url: &str) -> Self {
        let upstream: SocketAddr = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .expect("S3 test URL is http://ip:port");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mode = Arc::new(Mutex::new(Mode::Open));
        let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (m, c) = (Arc::clone(&mode), Arc::clone(&conns));
        let accept = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let now = *m.lock().expect("mode");
                let task = match now {
                    Mode::Refuse => continue,
                    Mode::Stall => tokio::spawn(async move {
                        let _held = socket;
                        std::future::pending::<()>().await;
                    }),
                    Mode::Open => tokio::spawn(async move {
                        if let Ok(mut up) = TcpStream::connect(upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut socket, &mut up).await;
                        }
                    }),
                };
                c.lock().expect("conns").push(task);
            }
        });
        Self {
            addr,
            mode,
            conns,
            accept,
        }
    }

    /// The gate's URL, to configure as the S3 endpoint.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Switches mode; leaving [`Mode::Open`] cuts every connection made so far.
    pub fn set(&self, mode: Mode) {
        *self.mode.lock().expect("mode") = mode;
        if mode != Mode::Open {
            for task in self.conns.lock().expect("conns").drain(..) {
                task.abort();
            }
        }
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.accept.abort();
        if let Ok(mut conns) = self.conns.lock() {
            for task in conns.drain(..) {
                task.abort();
            }
        }
    }
}
