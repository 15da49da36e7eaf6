//! The shared state of the HTTP layer: the store, the server signing key, the public
//! base URL request signatures are checked against, the attachment store, metrics, and two
//! caches of database facts that never change once written (kit public keys) or are
//! re-validated on every use (the parsed current catalog).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use chrono::Utc;
use ed25519_dalek::{SigningKey, VerifyingKey};
use sync_protocol::api::ServerKey;
use sync_protocol::ids::{AttachmentId, KitId};

use crate::blobs::BlobStore;
use crate::config::Limits;
use crate::keys::{KeyError, MasterKey, SealedServerKey};
use crate::metrics::Metrics;
use crate::routing::CatalogCache;
use crate::storage::{Store, StoreError};

/// Why the server key cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ServerKeyError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored key does not open with this master key.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Loads the server signing key, creating it on first use (race-free across
/// processes: the store keeps whichever candidate was stored first).
///
/// # Errors
/// [`ServerKeyError`], notably a master key that does not match the database.
pub async fn server_signing_key(
    store: &Store,
    master: &MasterKey,
) -> Result<SigningKey, ServerKeyError> {
    let candidate = SealedServerKey::generate(master, Utc::now());
    let stored = store.ensure_server_key(&candidate).await?;
    Ok(stored.open(master)?)
}

/// Opens every server signing key the database holds (current first), for signing key
/// rollovers with the key they replace (PROTOCOL.md §6.5).
///
/// # Errors
/// [`ServerKeyError`].
pub async fn server_key_ring(
    store: &Store,
    master: &MasterKey,
) -> Result<Vec<(chrono::DateTime<Utc>, SigningKey)>, ServerKeyError> {
    let mut ring = Vec::new();
    for sealed in store.server_keys().await? {
        ring.push((sealed.created_at, sealed.open(master)?));
    }
    Ok(ring)
}

/// How the back office provisions kits: the certificate whose pin goes into the
/// provisioning file (the server's own `tls_cert`; none for plain HTTP on loopback) and
/// the codes' lifetime. `serve` sets it; without it the defaults apply.
#[derive(Debug, Clone)]
pub struct ProvisioningSettings {
    /// The TLS certificate (PEM) kits pin.
    pub tls_cert: Option<PathBuf>,
    /// Lifetime of one-time codes.
    pub code_ttl: chrono::Duration,
}

impl Default for ProvisioningSettings {
    fn default() -> Self {
        Self {
            tls_cert: None,
            code_ttl: chrono::Duration::hours(72),
        }
    }
}

/// What every handler shares; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The fields of [`AppState`].
pub struct Inner {
    /// The database.
    pub store: Arc<Store>,
    /// Signs receipts and catalogs.
    pub server_key: SigningKey,
    /// The server key as published to kits at enrolment.
    pub server_keys: Vec<ServerKey>,
    /// Scheme and authority kits sign against (PROTOCOL.md §7.3).
    pub public_base_url: String,
    /// Attachment bytes (the data folder or an object store).
    pub blobs: BlobStore,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// The parsed current catalog.
    pub catalog: CatalogCache,
    /// Opens the authorities' sealed HPKE keys for the back office's case view; `None`
    /// when the process serves only the kit API (the case view then answers 503).
    pub master_key: Option<MasterKey>,
    /// How the back office provisions kits (set once by `serve`).
    pub provisioning: OnceLock<ProvisioningSettings>,
    /// Bounds the back office's concurrent password checks.
    pub password_checks: crate::password::CheckGate,
    kit_keys: RwLock<HashMap<KitId, VerifyingKey>>,
    server_key_ring: RwLock<Vec<(chrono::DateTime<Utc>, SigningKey)>>,
    busy_uploads: Mutex<HashSet<AttachmentId>>,
    enrol_failures: crate::codes::FailureLimiter,
    shutting_down: AtomicBool,
    limits: OnceLock<Limits>,
    kit_slots: Mutex<HashMap<KitId, Arc<tokio::sync::Semaphore>>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("store", &self.store.kind())
            .field("public_base_url", &self.public_base_url)
            .finish_non_exhaustive()
    }
}

/// Releases an upload claimed with [`AppState::claim_upload`] when dropped.
pub struct UploadClaim {
    state: AppState,
    id: AttachmentId,
}

impl Drop for UploadClaim {
    fn drop(&mut self) {
        if let Ok(mut busy) = self.state.busy_uploads.lock() {
            busy.remove(&self.id);
        }
    }
}

impl AppState {
    /// Builds the state over an opened attachment store ([`BlobStore::open`]).
    pub fn new(
        store: Arc<Store>,
        server_key: SigningKey,
        public_base_url: String,
        blobs: BlobStore,
    ) -> Self {
        Self::build(store, server_key, public_base_url, blobs, None)
    }

    /// [`AppState::new`] with the master key, so that reviewers can open cases.
    pub fn with_master_key(
        store: Arc<Store>,
        server_key: SigningKey,
        public_base_url: String,
        blobs: BlobStore,
        master_key: MasterKey,
    ) -> Self {
        Self::build(store, server_key, public_base_url, blobs, Some(master_key))
    }

    fn build(
        store: Arc<Store>,
        server_key: SigningKey,
        public_base_url: String,
        blobs: BlobStore,
        master_key: Option<MasterKey>,
    ) -> Self {
        let server_keys = vec![ServerKey::from_key(&server_key.verifying_key())];
        Self(Arc::new(Inner {
            store,
            server_key,
            server_keys,
            public_base_url,
            blobs,
            metrics: Metrics::new(),
            catalog: CatalogCache::default(),
            master_key,
            provisioning: OnceLock::new(),
            password_checks: crate::password::CheckGate::for_this_host(),
            kit_keys: RwLock::new(HashMap::new()),
            server_key_ring: RwLock::new(Vec::new()),
            busy_uploads: Mutex::new(HashSet::new()),
            enrol_failures: crate::codes::FailureLimiter::default(),
            shutting_down: AtomicBool::new(false),
            limits: OnceLock::new(),
            kit_slots: Mutex::new(HashMap::new()),
        }))
    }

    /// The public halves of the server keys, for verifying our own catalogs.
    pub fn server_verifying_keys(&self) -> Vec<VerifyingKey> {
        // A catalog published before a key rotation stays signed by the older key.
        let mut keys = vec![self.server_key.verifying_key()];
        if let Ok(ring) = self.server_key_ring.read() {
            keys.extend(ring.iter().map(|(_, k)| k.verifying_key()));
        }
        keys
    }

    /// Adds earlier server keys (from [`server_key_ring`]) so that key rollovers can be
    /// signed by the key they replace.
    pub fn set_server_key_ring(&self, keys: Vec<(chrono::DateTime<Utc>, SigningKey)>) {
        if let Ok(mut ring) = self.server_key_ring.write() {
            *ring = keys;
        }
    }

    /// The server key with this key id: the current one or one of the ring.
    pub fn server_key_by_id(&self, key_id: &str) -> Option<SigningKey> {
        let current = &self.server_key;
        if sync_protocol::receipt::ed25519_key_id(&current.verifying_key()) == key_id {
            return Some(current.clone());
        }
        self.server_key_ring
            .read()
            .ok()?
            .iter()
            .map(|(_, k)| k)
            .find(|k| sync_protocol::receipt::ed25519_key_id(&k.verifying_key()) == key_id)
            .cloned()
    }

    /// The server key that was current at `t` (the latest made at or before `t`; the
    /// oldest for an earlier `t`); the current key when no ring is loaded.
    pub fn server_key_at(&self, t: chrono::DateTime<Utc>) -> SigningKey {
        let Ok(ring) = self.server_key_ring.read() else {
            return self.server_key.clone();
        };
        ring.iter()
            .filter(|(made, _)| *made <= t)
            .max_by_key(|(made, _)| *made)
            .or_else(|| ring.iter().min_by_key(|(made, _)| *made))
            .map_or_else(|| self.server_key.clone(), |(_, k)| k.clone())
    }

    /// A kit's public key if this process has seen it (a kit's key never changes).
    pub fn cached_kit_key(&self, kit: &KitId) -> Option<VerifyingKey> {
        self.kit_keys.read().ok()?.get(kit).copied()
    }

    /// Remembers a kit's public key.
    pub fn cache_kit_key(&self, kit: KitId, key: VerifyingKey) {
        if let Ok(mut keys) = self.kit_keys.write() {
            keys.insert(kit, key);
        }
    }

    /// Claims an upload for one request of this process; `None` while another
    /// request works on it (the database offset check covers other processes).
    pub fn claim_upload(&self, id: AttachmentId) -> Option<UploadClaim> {
        let mut busy = self.busy_uploads.lock().ok()?;
        busy.insert(id).then(|| UploadClaim {
            state: self.clone(),
            id,
        })
    }

    /// Marks the server as shutting down: `/readyz` turns 503 so load balancers stop
    /// sending new requests while in-flight ones finish.
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    /// Whether shutdown began.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }
}

impl Inner {
    /// Seconds `client` must wait before its next enrolment, while too many of its
    /// recent ones failed ([`crate::codes::FailureLimiter`]).
    pub fn enrol_retry_after(&self, client: &str) -> Option<u64> {
        self.enrol_failures
            .retry_after(client, std::time::Instant::now())
    }

    /// Counts a failed enrolment of `client`.
    pub fn note_enrol_failure(&self, client: &str) {
        self.enrol_failures.note(client, std::time::Instant::now());
    }
}

/// One of a kit's request slots ([`AppState::kit_slot`]); released when dropped.
pub type KitSlot = tokio::sync::OwnedSemaphorePermit;

impl AppState {
    /// Sets the limits and timeouts (once, by `serve`; tests may set their own).
    /// Later calls are ignored.
    pub fn set_limits(&self, limits: Limits) {
        let _ = self.limits.set(limits);
    }

    /// The limits in force: those set with [`AppState::set_limits`], else the defaults.
    pub fn limits(&self) -> &Limits {
        self.limits.get_or_init(Limits::default)
    }

    /// Takes one of the kit's `max_requests_per_kit` request slots, or `None` while all
    /// are in use (the request is answered 429). Slots are per process.
    pub fn kit_slot(&self, kit: KitId) -> Option<KitSlot> {
        let per_kit = self.limits().max_requests_per_kit;
        let semaphore = {
            let mut slots = self.kit_slots.lock().ok()?;
            // Forget kits with no request in flight, so the map stays as small as the
            // number of kits currently talking to this process.
            slots.retain(|_, s| Arc::strong_count(s) > 1);
            Arc::clone(
                slots
                    .entry(kit)
                    .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(per_kit))),
            )
        };
        semaphore.try_acquire_owned().ok()
    }
}
