//! Storage: ONE trait, [`Store`], with ONE implementation, [`SqlStore`], on SQLite
//! (embedded default, one file: [`sqlite::SqliteStore::open`]) or PostgreSQL
//! (production; several backend processes may share one database:
//! [`postgres::PgStore::open`]), chosen at start-up by the database URL ([`open`]) and
//! checked by one conformance suite on both (`backend/tests/it/conformance.rs`).
//!
//! Every operation is written once, in the module of its entity — [`kits`],
//! [`authorities`] (and keys), [`users`] (and sessions), [`batch`] (records and
//! receipts), [`cases`], [`inbox`], [`uploads`], [`catalogs`] (and the changes feed),
//! `audit`, `accounts` — as SQL in PostgreSQL's `$N` form over [`sql`] (sqlx's `Any`
//! driver). What differs between the databases is listed once, in [`sql::Dialect`].
//! Migrations are `.sql` files per version and dialect ([`migrations`]).
//!
//! Every method is one transaction. Everything correctness depends on — chain heads,
//! receipts, nonces, enrolment codes, upload offsets, feed cursors, log positions — is
//! in the database; the batch algorithm itself lives once in [`crate::ingest`] and runs
//! inside the store's transaction through [`crate::ingest::BatchTx`].

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use fieldkit_catalog::AuthorityKind;
use sync_protocol::api::{CaseStatus, Change, ChangeKind};
use sync_protocol::ids::{AttachmentId, AuthorityId, KitId, RecordId};
use sync_protocol::record::RecordKind;

use crate::config::DatabaseUrl;
use crate::ingest::{BatchItem, BatchOutcome};
use crate::keys::{SealedAuthorityKey, SealedServerKey};

mod accounts;
mod audit;
pub mod authorities;
pub mod batch;
pub mod cases;
pub mod catalogs;
pub mod inbox;
pub mod kits;
pub mod migrations;
mod model;
mod office;
pub mod postgres;
pub(crate) mod rows;
pub mod sql;
pub mod sqlite;
mod store;
pub mod uploads;
pub mod users;

pub use store::SqlStore;

pub use accounts::{AccountStore, Confirmation, NewUserChange, PendingUserChange, UserChangeKind};
pub use audit::{
    AdminAction, AdminEvent, AuditCursor, AuditEntry, AuditPage, AuditQuery, AuditSource,
    AuditStore, CatalogVersionRow,
};
pub use model::*;
pub use office::{
    AssigneeFilter, CaseDetail, CaseEventKind, CaseEventRow, DecryptionEntry, InboxCursor,
    InboxFilter, InboxOrder, InboxPage, InboxQuery, LoginFailures, NewSession, SessionRow,
    StoredAttachment,
};

/// What a store operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached (retryable).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database refused an operation.
    #[error("database error: {0}")]
    Database(String),
    /// The thing to add exists already.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The thing named does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The operation contradicts what is stored.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The kit may not push records in its current standing.
    #[error("the kit is {0}")]
    KitNotActive(KitStatus),
    /// A stored value does not parse (a bug or manual tampering).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Migrations failed or the database is newer than this build.
    #[error("migration: {0}")]
    Migration(String),
}

/// The storage interface of the backend. One transaction per method. The audit trail's
/// methods are in the supertrait [`AuditStore`], the account methods in
/// [`AccountStore`].
#[async_trait]
pub trait Store: AuditStore + AccountStore + Send + Sync + 'static {
    /// `sqlite` or `postgresql`, for logs and metrics.
    fn kind(&self) -> &'static str;
    /// Whether the database answers (readiness).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Adds an authority with its first HPKE key.
    async fn add_authority(
        &self,
        authority: &NewAuthority,
        key: &SealedAuthorityKey,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// All authorities, by id.
    async fn authorities(&self) -> Result<Vec<AuthorityRow>, StoreError>;
    /// The keys of an authority, current first, then retired ones newest first.
    async fn authority_keys(
        &self,
        authority: &AuthorityId,
    ) -> Result<Vec<AuthorityKeyRow>, StoreError>;
    /// Retires the current key of an authority and makes `key` current.
    async fn rotate_authority_key(
        &self,
        authority: &AuthorityId,
        key: &SealedAuthorityKey,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Stores `candidate` as the server signing key unless one exists; returns the one
    /// in use (safe when several processes start at once).
    async fn ensure_server_key(
        &self,
        candidate: &SealedServerKey,
    ) -> Result<SealedServerKey, StoreError>;
    /// Every server signing key ever used (the current one first): the server signs a
    /// key rollover with the key it replaces (PROTOCOL.md §6.5).
    async fn server_keys(&self) -> Result<Vec<SealedServerKey>, StoreError>;
    /// Makes `new` the current server key and appends a `server_key` change to every
    /// kit's feed, in one transaction; returns the id of the key it replaces.
    async fn rotate_server_key(
        &self,
        new: &SealedServerKey,
        overlap_until: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<String, StoreError>;
    /// Appends `change` to every kit's feed (a TLS pin rollover).
    async fn announce_change(
        &self,
        change: &ChangeKind,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Adds a user.
    async fn add_user(&self, user: &UserRow) -> Result<(), StoreError>;
    /// All users, by login.
    async fn users(&self) -> Result<Vec<UserRow>, StoreError>;
    /// Disables a user; false if there is none with this login.
    async fn disable_user(&self, login: &str) -> Result<bool, StoreError>;

    /// Provisions a kit with its one-time code.
    async fn provision_kit(&self, kit: &NewKit) -> Result<(), StoreError>;
    /// Consumes an enrolment code for a public key (PROTOCOL.md §6.1 rules).
    async fn enrol(
        &self,
        code_hash: &[u8; 32],
        public_key: &[u8; 32],
        reported_name: &str,
        at: DateTime<Utc>,
    ) -> Result<EnrolOutcome, StoreError>;
    /// One kit.
    async fn kit(&self, kit_id: &KitId) -> Result<Option<KitRow>, StoreError>;
    /// All kits, newest first.
    async fn kits(&self) -> Result<Vec<KitRow>, StoreError>;
    /// Revokes a kit and queues its wipe change; false if unknown.
    async fn revoke_kit(
        &self,
        kit_id: &KitId,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Revokes a kit in `mode`, naming `by` (PROTOCOL.md §6.5 "Revocation"): drain and
    /// stolen keep it `draining` (its pushes are accepted, flagged) and remember the head;
    /// wipe-now queues the wipe. False if unknown; nothing changes for a revoked kit.
    async fn revoke_kit_as(
        &self,
        kit_id: &KitId,
        reason: &str,
        mode: RevocationMode,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Records the kit's report of undelivered records; for a draining kit reporting 0
    /// with every upload held, queues the wipe (true).
    async fn report_outbox(
        &self,
        kit_id: &KitId,
        outbox: u64,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// How a kit was revoked, by whom, and its last outbox report; `None` if unknown.
    async fn kit_revocation(&self, kit_id: &KitId) -> Result<Option<KitRevocation>, StoreError>;
    /// Lifts a quarantine (after IT staff investigated); false unless quarantined.
    async fn clear_quarantine(&self, kit_id: &KitId) -> Result<bool, StoreError>;
    /// Remembers a request nonce; false if the kit used it before (replay). Also
    /// records the kit as seen.
    async fn use_nonce(
        &self,
        kit_id: &KitId,
        nonce: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Whether the kit used this nonce before (read only: the nonce is remembered by
    /// [`Store::use_nonce`] once the whole request verified).
    async fn nonce_used(&self, kit_id: &KitId, nonce: &str) -> Result<bool, StoreError>;
    /// Forgets nonces seen before `before`; returns how many.
    async fn purge_nonces(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Runs a verified batch in one transaction ([`crate::ingest::run_batch`]).
    async fn push_batch(
        &self,
        kit_id: &KitId,
        items: Vec<BatchItem>,
        server_key: &SigningKey,
        at: DateTime<Utc>,
    ) -> Result<BatchOutcome, StoreError>;
    /// Imports a blocked kit's verified held-records file in one transaction
    /// ([`crate::held_import::import_held`], PROTOCOL.md §11.3).
    async fn import_held(
        &self,
        kit_id: &KitId,
        prepared: crate::held_import::PreparedFile,
        server_key: &SigningKey,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<crate::held_import::ImportOutcome, StoreError>;
    /// What the kit has used of its quotas: records received since `since`, and bytes of
    /// attachments still to be uploaded.
    async fn kit_usage(&self, kit_id: &KitId, since: DateTime<Utc>)
        -> Result<KitUsage, StoreError>;
    /// Pending uploads (up to `limit`) and the catalog version for `GET /v1/state`.
    async fn kit_state(&self, kit_id: &KitId, limit: usize) -> Result<KitStateRow, StoreError>;
    /// The cases in an authority's inbox, oldest first.
    async fn inbox(&self, authority: &AuthorityId) -> Result<Vec<CaseRow>, StoreError>;
    /// Fork evidence kept for a kit.
    async fn fork_evidence(&self, kit_id: &KitId) -> Result<Vec<EvidenceRow>, StoreError>;
    /// Sets a case's status with an audit entry and a change for the capturing kit.
    async fn set_case_status(
        &self,
        record_id: &RecordId,
        status: CaseStatus,
        comment: Option<&str>,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Moves a case from `from` to `to` like [`Store::set_case_status`], but only if it
    /// is still in `from` (compare-and-set); false otherwise or if unknown.
    async fn transition_case(
        &self,
        record_id: &RecordId,
        from: CaseStatus,
        to: CaseStatus,
        comment: Option<&str>,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// A page of an authority's inbox with counts per status.
    async fn inbox_page(&self, query: &InboxQuery) -> Result<InboxPage, StoreError>;
    /// One case with its record, receipt and kit key.
    async fn case_detail(&self, record_id: &RecordId) -> Result<Option<CaseDetail>, StoreError>;
    /// A case's history, oldest first.
    async fn case_events(&self, record_id: &RecordId) -> Result<Vec<CaseEventRow>, StoreError>;
    /// Appends to the decryption log.
    async fn log_decryption(&self, entry: &DecryptionEntry) -> Result<(), StoreError>;
    /// The decryptions of a case, oldest first.
    async fn decryptions(&self, record_id: &RecordId) -> Result<Vec<DecryptionEntry>, StoreError>;
    /// The attachments of a case's manifest, in manifest order, with their upload state.
    async fn case_attachments(
        &self,
        record_id: &RecordId,
    ) -> Result<Vec<StoredAttachment>, StoreError>;
    /// Assigns a case to a reviewer (`None`: to nobody) with an `assignment` entry in
    /// its history naming `actor`; false if the case is unknown or `expected` (the
    /// assignee the reviewer saw) is no longer current (compare-and-set).
    async fn assign_case(
        &self,
        record_id: &RecordId,
        expected: Option<&str>,
        assignee: Option<&str>,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// One user.
    async fn user(&self, login: &str) -> Result<Option<UserRow>, StoreError>;
    /// Stores a new back-office session.
    async fn create_session(&self, session: &NewSession) -> Result<(), StoreError>;
    /// The session with this token hash if it is live at `now` (not past its end, used
    /// within `idle`, user not disabled); marks it used now.
    async fn touch_session(
        &self,
        token_hash: &[u8; 32],
        now: DateTime<Utc>,
        idle: chrono::Duration,
    ) -> Result<Option<SessionRow>, StoreError>;
    /// Ends a session (logout); idempotent.
    async fn delete_session(&self, token_hash: &[u8; 32]) -> Result<(), StoreError>;
    /// Forgets sessions that ended before `before`; returns how many.
    async fn purge_sessions(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
    /// The failed logins counted for a login name from `client` (a
    /// [`crate::login_throttle::client_key`], or [`crate::login_throttle::ACCOUNT_WIDE`]
    /// for all addresses).
    async fn login_failures(
        &self,
        login: &str,
        client: &str,
    ) -> Result<Option<LoginFailures>, StoreError>;
    /// Decides a login attempt before its password is checked, in one transaction that
    /// locks both counters of `login` (this client's and the account-wide one): applies
    /// [`crate::login_throttle::admit`] and, if the attempt may be checked, counts it
    /// as a failure on both (a success undoes that with [`Store::login_succeeded`]).
    async fn admit_login(
        &self,
        login: &str,
        client: &str,
        now: DateTime<Utc>,
    ) -> Result<crate::login_throttle::Admission, StoreError>;
    /// After a successful login: forgets this client's failures and takes them off the
    /// account-wide count.
    async fn login_succeeded(&self, login: &str, client: &str) -> Result<(), StoreError>;
    /// Forgets failure counters whose last failure is older than `before`; returns how
    /// many.
    async fn purge_login_failures(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// The upload of `attachment_id` if it is in the manifest of a delivered record of
    /// `kit_id` (and of `record_id`, when given).
    async fn upload(
        &self,
        kit_id: &KitId,
        attachment_id: &AttachmentId,
        record_id: Option<&RecordId>,
    ) -> Result<Option<UploadRow>, StoreError>;
    /// Marks the upload created (tus creation); idempotent.
    async fn create_upload(&self, attachment_id: &AttachmentId) -> Result<(), StoreError>;
    /// Moves the offset from `from` to `to` (compare-and-set); false if it was not at
    /// `from` or the upload is complete. `complete` marks the file verified.
    async fn advance_upload(
        &self,
        attachment_id: &AttachmentId,
        from: u64,
        to: u64,
        complete: bool,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Discards the held bytes of an incomplete upload: offset 0, and `created` false
    /// when `uncreate` (tus termination). False if complete or unknown.
    async fn reset_upload(
        &self,
        attachment_id: &AttachmentId,
        uncreate: bool,
    ) -> Result<bool, StoreError>;

    /// Publishes a catalog and announces it in every kit's feed; refuses another
    /// content under a version published before.
    async fn publish_catalog(
        &self,
        catalog: &PublishedCatalog,
    ) -> Result<PublishOutcome, StoreError>;
    /// The current catalog.
    async fn current_catalog(&self) -> Result<Option<PublishedCatalog>, StoreError>;
    /// The current catalog's version (cheap).
    async fn current_catalog_version(&self) -> Result<Option<String>, StoreError>;
    /// A published catalog by its version (current or not).
    async fn catalog(&self, version: &str) -> Result<Option<PublishedCatalog>, StoreError>;

    /// The flags of a case, open and resolved, in the order raised.
    async fn case_flags(&self, record_id: &RecordId) -> Result<Vec<CaseFlagRow>, StoreError>;
    /// The open flags among these cases (for the inbox's markers).
    async fn open_case_flags(
        &self,
        record_ids: &[RecordId],
    ) -> Result<Vec<(RecordId, CaseFlag)>, StoreError>;
    /// Resolves the open ones of `flags` on a case as `resolution`, with a `flag` entry
    /// in its history naming `actor`; with `forward_to`, the case moves to that
    /// authority's inbox (unassigned). False if none of `flags` is open or the case is
    /// unknown.
    #[allow(clippy::too_many_arguments)]
    async fn resolve_case_flags(
        &self,
        record_id: &RecordId,
        flags: &[CaseFlag],
        resolution: &str,
        forward_to: Option<&AuthorityId>,
        comment: Option<&str>,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// The kit's changes with `cursor > after`, at most `limit`, and whether more wait.
    async fn changes(
        &self,
        kit_id: &KitId,
        after: u64,
        limit: u32,
    ) -> Result<(Vec<Change>, bool), StoreError>;
}

/// Opens (creating and migrating as needed) the store a URL names.
///
/// # Errors
/// [`StoreError::Unavailable`] or [`StoreError::Migration`].
pub async fn open(url: &DatabaseUrl, pool_size: usize) -> Result<Arc<dyn Store>, StoreError> {
    match url {
        DatabaseUrl::Sqlite(path) => Ok(Arc::new(SqlStore::open_sqlite(path).await?)),
        DatabaseUrl::Postgres(url) => Ok(Arc::new(SqlStore::open_postgres(url, pool_size).await?)),
    }
}

/// Milliseconds since the epoch, as stored.
pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// The stored milliseconds as a time.
pub(crate) fn from_ms(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::Corrupt(format!("time {ms}")))
}

/// A stored non-negative integer.
pub(crate) fn to_u64(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative {v}")))
}

/// An integer to store (all of ours are ≤ 2^53 − 1).
pub(crate) fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt(format!("too large {v}")))
}

/// 32 stored bytes.
pub(crate) fn to_32(bytes: &[u8]) -> Result<[u8; 32], StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("{} bytes where 32 belong", bytes.len())))
}

/// A stored id or other validated text.
pub(crate) fn parse<T: std::str::FromStr>(what: &str, s: &str) -> Result<T, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("{what} {s:?}")))
}

/// The JSON of a case status, kind or change, as stored.
pub(crate) fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A stored JSON value.
pub(crate) fn from_json_text<T: serde::de::DeserializeOwned>(
    what: &str,
    s: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// The stored name of a case status (`"in_review"`) and back.
pub(crate) fn status_name(s: CaseStatus) -> String {
    json_text(&s).trim_matches('"').to_owned()
}

/// Parses a stored case status name.
pub(crate) fn parse_status(s: &str) -> Result<CaseStatus, StoreError> {
    from_json_text("case status", &format!("\"{s}\""))
}

/// The stored name of a record kind.
pub(crate) fn kind_name(k: RecordKind) -> String {
    json_text(&k).trim_matches('"').to_owned()
}

/// Parses a stored record kind.
pub(crate) fn parse_kind(s: &str) -> Result<RecordKind, StoreError> {
    from_json_text("record kind", &format!("\"{s}\""))
}

/// The stored name of an authority kind.
pub(crate) fn authority_kind_name(k: AuthorityKind) -> String {
    json_text(&k).trim_matches('"').to_owned()
}

/// Parses a stored authority kind.
pub(crate) fn parse_authority_kind(s: &str) -> Result<AuthorityKind, StoreError> {
    from_json_text("authority kind", &format!("\"{s}\""))
}

/// The history comment of a resolved flag: how, and the reviewer's words if any.
pub(crate) fn lifecycle_comment(resolution: &str, comment: Option<&str>) -> String {
    match comment {
        Some(c) => format!("{resolution}: {c}"),
        None => resolution.to_owned(),
    }
}

/// A flag resolution as the stores apply it ([`Store::resolve_case_flags`]).
pub(crate) struct ResolveFlags<'a> {
    pub record_id: &'a RecordId,
    pub flags: &'a [CaseFlag],
    pub resolution: &'a str,
    pub forward_to: Option<&'a AuthorityId>,
    pub comment: Option<&'a str>,
    pub actor: &'a str,
    pub at: i64,
}

/// What revoking a kit in `mode` does to a kit in `status` (both stores).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RevocationStep {
    /// Already revoked: nothing.
    Nothing,
    /// Into `draining` (drain or stolen): pushes still accepted, flagged.
    Drain,
    /// Into `revoked` with the wipe queued.
    Wipe,
}

/// The [`RevocationStep`] for a stored kit status.
///
/// # Errors
/// [`StoreError::Conflict`] for draining a quarantined kit (its fork is under
/// investigation: release it first, or wipe now).
pub(crate) fn revocation_step(
    status: &str,
    mode: RevocationMode,
) -> Result<RevocationStep, StoreError> {
    match (status, mode) {
        ("revoked", _) => Ok(RevocationStep::Nothing),
        (_, RevocationMode::WipeNow) | ("provisioned", _) => Ok(RevocationStep::Wipe),
        ("quarantined", _) => Err(StoreError::Conflict(
            "a quarantined kit cannot drain; release it after the investigation, or wipe it now"
                .into(),
        )),
        _ => Ok(RevocationStep::Drain),
    }
}
