//! What the admin commands do, as library functions that return data: the binary
//! (`fieldkit-backend admin …`) parses arguments, calls these, and prints the result as
//! text or JSON. They talk to the database directly, never to a running server.
//!
//! Every error maps to one documented exit code ([`AdminError::exit_code`]).
//!
//! Every change (authority added or key rotated, user added or disabled, kit
//! provisioned, revoked or released, catalog published) is appended to the append-only
//! `admin_events` trail right after it succeeded, naming [`Admin::actor`]: `cli` (or
//! `cli:<os user>`) for the CLI, the signed-in login for the back office, which builds
//! its [`Admin`] with [`Admin::acting_as`]. The action and its audit entry are two
//! transactions: if the database fails between them, the action stands and the
//! command fails with the error, so the gap is at least reported.

use std::path::PathBuf;
use std::sync::Arc;

use ed25519_dalek::SigningKey;

use crate::blobs::BlobConfig;
use crate::config::DatabaseUrl;
use crate::keys::{KeyError, MasterKey, MasterKeyOrigin, MasterKeySource};
use crate::storage::{self, AdminAction, AdminEvent, Store, StoreError};

pub mod authority;
pub mod backup;
pub mod catalog;
pub mod demo;
pub mod held;
pub mod kit;
pub mod trust;
pub mod user;

/// Why an admin command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The database failed or refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The master key is missing or does not open the stored keys.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// An argument is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The attachment store failed.
    #[error("attachment store: {0}")]
    Blobs(#[from] crate::blobs::BlobError),
    /// Done, but not everything could be: a backup without some attachments, an fsck
    /// that found damage (the report names what).
    #[error("{0}")]
    Incomplete(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl AdminError {
    /// The process exit code (documented in `backend/README.md`).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Store(StoreError::NotFound(_)) => 3,
            Self::Store(StoreError::AlreadyExists(_) | StoreError::Conflict(_)) => 4,
            Self::Invalid(_) => 5,
            Self::Key(_) => 6,
            Self::Store(StoreError::Unavailable(_) | StoreError::Migration(_)) | Self::Blobs(_) => {
                7
            }
            Self::Incomplete(_) => 8,
            Self::Store(_) | Self::Io { .. } => 1,
        }
    }
}

/// Where the admin commands find the database and the master key.
#[derive(Debug, Clone)]
pub struct Target {
    /// The database.
    pub database: DatabaseUrl,
    /// The data folder (generated master key, provisioning files; attachment files
    /// when `blobs` says so).
    pub data_dir: PathBuf,
    /// The master key sources.
    pub master_key: MasterKeySource,
    /// Where attachment bytes live.
    pub blobs: BlobConfig,
}

/// An opened database with the master key and the server signing key.
pub struct Admin {
    /// The store.
    pub store: Arc<Store>,
    /// The master key.
    pub master: MasterKey,
    /// Where the master key came from.
    pub master_origin: MasterKeyOrigin,
    /// The data folder.
    pub data_dir: PathBuf,
    /// Where attachment bytes live; `None` for the back office's admin functions, which
    /// never touch them.
    pub blobs: Option<BlobConfig>,
    /// Who acts, as the audit trail names them.
    pub actor: String,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("store", &self.store.kind())
            .field("data_dir", &self.data_dir)
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

impl Admin {
    /// Opens (and migrates) the database and loads the master key; for the embedded
    /// store a missing master key is generated into the data folder.
    ///
    /// # Errors
    /// [`AdminError`].
    pub async fn open(target: &Target) -> Result<Self, AdminError> {
        let mut source = target.master_key.clone();
        if target.database.is_embedded() {
            source.generate_in = Some(target.data_dir.clone());
        }
        let (master, master_origin) = MasterKey::load(&source)?;
        let store = storage::open(&target.database, 4).await?;
        Ok(Self {
            store,
            master,
            master_origin,
            data_dir: target.data_dir.clone(),
            blobs: Some(target.blobs.clone()),
            actor: cli_actor(),
        })
    }

    /// The admin functions for a signed-in back-office user: the running server's store
    /// and master key, `actor` as the audit trail's name. It writes no files
    /// (provisioning answers with the file's content).
    pub fn acting_as(store: Arc<Store>, master: &MasterKey, actor: &str) -> Self {
        Self {
            store,
            master: master.duplicate(),
            master_origin: MasterKeyOrigin::Server,
            data_dir: PathBuf::new(),
            blobs: None,
            actor: actor.to_owned(),
        }
    }

    /// Appends an admin event naming [`Admin::actor`] (after the action succeeded).
    ///
    /// # Errors
    /// [`AdminError::Store`].
    pub(crate) async fn record(
        &self,
        authority: Option<&sync_protocol::ids::AuthorityId>,
        action: AdminAction,
        target: &str,
        detail: Option<&str>,
    ) -> Result<(), AdminError> {
        self.store
            .append_admin_event(&AdminEvent {
                at: chrono::Utc::now(),
                actor: self.actor.clone(),
                authority_id: authority.cloned(),
                action,
                target: target.to_owned(),
                detail: detail.map(str::to_owned),
            })
            .await
            .map_err(AdminError::from)
    }

    /// The server signing key (created on first use).
    ///
    /// # Errors
    /// [`AdminError`].
    pub async fn server_key(&self) -> Result<SigningKey, AdminError> {
        crate::state::server_signing_key(self.store.as_ref(), &self.master)
            .await
            .map_err(|e| match e {
                crate::state::ServerKeyError::Store(s) => AdminError::Store(s),
                crate::state::ServerKeyError::Key(k) => AdminError::Key(k),
            })
    }
}

/// The CLI's name in the audit trail: `cli:<os user>` when `USER` (or `LOGNAME`) is a
/// plain account name, else `cli`.
fn cli_actor() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| {
            (1..=32).contains(&u.len())
                && u.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
        .map_or_else(|| "cli".to_owned(), |u| format!("cli:{u}"))
}

/// A timestamp as printed and written into files.
pub(crate) fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
