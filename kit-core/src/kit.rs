//! The kit as a whole: [`Kit`] is a closed kit folder, [`Session`] an unlocked one.
//!
//! `init` creates the store, the kit's ed25519 key (generated here, kept only inside the
//! encrypted store) and the recovery slot. Unlocking with a clerk's PIN (or IT's
//! recovery secret) unwraps the database key and opens the store; dropping or locking
//! the session zeroizes the kit key and the database key.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand_core::{OsRng, RngCore};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sync_protocol::ids::ClerkId;
use zeroize::Zeroizing;

use crate::home::{sync_dir, Home};
use crate::keyslots::{self, DbKey, KeySlots, RECOVERY_SLOT};
use crate::store::{self, migrations};
use crate::tpm::TpmChoice;
use crate::KitError;

/// A kit folder, not unlocked.
#[derive(Debug, Clone)]
pub struct Kit {
    home: Home,
    tpm: TpmChoice,
}

/// What `init` hands back once: the recovery secret for IT.
#[derive(Debug)]
pub struct Initialized {
    /// The recovery secret (shown once; IT keeps it).
    pub recovery_secret: Zeroizing<String>,
    /// The kit's public key, lower-case hex.
    pub kit_public_key: String,
}

/// A clerk as listed.
#[derive(Debug, Clone, Serialize)]
pub struct Clerk {
    /// Stable id, named in every record the clerk captures.
    pub id: ClerkId,
    /// Display name.
    pub name: String,
    /// When the clerk was added.
    pub created_at: String,
}

/// An unlocked kit: the open store, the kit key and who unlocked it.
pub struct Session {
    pub(crate) home: Home,
    pub(crate) tpm: TpmChoice,
    pub(crate) conn: Connection,
    pub(crate) db_key: DbKey,
    pub(crate) kit_key: SigningKey,
    pub(crate) clerk: Option<ClerkId>,
    pub(crate) catalog: Option<fieldkit_catalog::Catalog>,
    pub(crate) validators: HashMap<(String, u32, NaiveDate), fieldkit_catalog::FormValidator>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("home", &self.home.root())
            .field("clerk", &self.clerk)
            .finish_non_exhaustive()
    }
}

pub(crate) fn now_text() -> String {
    sync_protocol_time(Utc::now())
}

pub(crate) fn sync_protocol_time(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Kit {
    /// The kit folder at `root`.
    pub fn at(root: impl Into<std::path::PathBuf>) -> Self {
        Self {
            home: Home::new(root),
            tpm: TpmChoice::FromEnvironment,
        }
    }

    /// The same folder with an explicit TPM choice instead of the environment's
    /// (`FIELDKIT_TPM_TCTI`, `/dev/tpmrm0`).
    #[must_use]
    pub fn with_tpm(mut self, tpm: TpmChoice) -> Self {
        self.tpm = tpm;
        self
    }

    /// Whether clerk slots made on this device are bound to a TPM; without one a clerk
    /// needs a passphrase, not a PIN ([`keyslots::check_secret`]).
    pub fn binds_to_tpm(&self) -> bool {
        self.tpm.tcti().is_some()
    }

    /// The folder.
    pub fn home(&self) -> &Home {
        &self.home
    }

    /// Whether a kit has been set up here.
    pub fn is_initialized(&self) -> bool {
        self.home.keyslots().exists()
    }

    /// Sets up a new kit: store, kit key, recovery slot. `recovery_secret` may be given
    /// (e.g. from provisioning); otherwise one is generated and returned.
    ///
    /// # Errors
    /// [`KitError::AlreadyInitialized`] — an existing kit is never overwritten.
    pub fn init(&self, recovery_secret: Option<&str>) -> Result<Initialized, KitError> {
        self.init_at_schema(recovery_secret, migrations::CURRENT)
    }

    /// As [`Kit::init`], with the schema stopped at an older version: how the migration
    /// tests create "a store written by the previous release".
    #[doc(hidden)]
    pub fn init_at_schema(
        &self,
        recovery_secret: Option<&str>,
        schema: u32,
    ) -> Result<Initialized, KitError> {
        if self.is_initialized() {
            return Err(KitError::AlreadyInitialized(
                self.home.root().display().to_string(),
            ));
        }
        let root = self.home.root();
        crate::home::create_private_dir(&self.home.attachments())
            .map_err(KitError::io(format!("creating {}", root.display())))?;
        // A database without key slots is the remains of an interrupted init: without
        // its key nobody can ever open it, so it is safe to start over.
        for suffix in ["", "-wal", "-shm"] {
            let p = std::path::PathBuf::from(format!("{}{suffix}", self.home.database().display()));
            if p.exists() {
                std::fs::remove_file(&p)
                    .map_err(KitError::io(format!("removing {}", p.display())))?;
            }
        }
        let mut db_key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(db_key.as_mut());
        let secret = match recovery_secret {
            Some(s) => keyslots::normalize_recovery_secret(s),
            None => keyslots::new_recovery_secret(),
        };
        // Others may not even enter the folder, and every file in it is the owner's
        // alone (SQLite gives the -wal and -shm files the database's mode).
        crate::home::make_private(root)?;
        crate::home::create_private(&self.home.database()).map_err(KitError::io(format!(
            "creating {}",
            self.home.database().display()
        )))?;
        let mut conn = store::open(&self.home.database(), &db_key, true)?;
        migrations::migrate_to(&mut conn, schema)?;
        let kit_key = SigningKey::generate(&mut OsRng);
        conn.execute(
            "INSERT INTO kit_key (id, secret, public, created_at) VALUES (1, ?1, ?2, ?3)",
            params![
                kit_key.to_bytes().as_slice(),
                kit_key.verifying_key().as_bytes().as_slice(),
                now_text()
            ],
        )?;
        drop(conn);
        // The slots file is written last: its presence means "initialized".
        KeySlots::create(
            &self.home.keyslots(),
            &db_key,
            keyslots::normalize_recovery_secret(&secret).as_bytes(),
        )?;
        sync_dir(root)?;
        Ok(Initialized {
            recovery_secret: secret,
            kit_public_key: hex_of(kit_key.verifying_key().as_bytes()),
        })
    }

    /// The ids of the clerks who can unlock this kit (readable while locked).
    ///
    /// # Errors
    /// [`KitError::NotInitialized`], [`KitError::Corrupted`].
    pub fn clerk_ids(&self) -> Result<Vec<String>, KitError> {
        Ok(KeySlots::load(&self.home.keyslots())?.clerk_ids())
    }

    /// Every clerk's id and the name entered when they were added, readable before any
    /// unlock (for the unlock screen); `None` for clerks added by an older Fieldkit.
    ///
    /// # Errors
    /// As [`Kit::clerk_ids`].
    pub fn clerk_names(&self) -> Result<Vec<(String, Option<String>)>, KitError> {
        Ok(KeySlots::load(&self.home.keyslots())?.clerk_names())
    }

    /// Unlocks with a clerk's PIN.
    ///
    /// # Errors
    /// [`KitError::UnknownClerk`], [`KitError::WrongSecret`],
    /// [`KitError::TooManyAttempts`], store errors.
    pub fn unlock(&self, clerk: &str, pin: &[u8]) -> Result<Session, KitError> {
        let mut slots = KeySlots::lock(&self.home.keyslots())?;
        if clerk == RECOVERY_SLOT {
            return Err(KitError::UnknownClerk(clerk.to_owned()));
        }
        let mut sealer = if slots.is_tpm_bound(clerk) {
            self.tpm.open()?
        } else {
            None
        };
        let key = slots.unlock_with(clerk, pin, Utc::now().timestamp(), sealer.as_deref_mut())?;
        let clerk = ClerkId::parse(clerk)?;
        self.open_session(key, Some(clerk))
    }

    /// Unlocks with IT's recovery secret: a session that can add clerks and read the
    /// store, but captures nothing (records always name a clerk).
    ///
    /// # Errors
    /// As [`Kit::unlock`].
    pub fn unlock_recovery(&self, secret: &str) -> Result<Session, KitError> {
        let mut slots = KeySlots::lock(&self.home.keyslots())?;
        let normalized = keyslots::normalize_recovery_secret(secret);
        let key = slots.unlock(RECOVERY_SLOT, normalized.as_bytes(), Utc::now().timestamp())?;
        self.open_session(key, None)
    }

    pub(crate) fn open_session(
        &self,
        db_key: DbKey,
        clerk: Option<ClerkId>,
    ) -> Result<Session, KitError> {
        let mut conn = store::open(&self.home.database(), &db_key, false)?;
        migrations::migrate(&mut conn)?;
        let secret: Option<Zeroizing<Vec<u8>>> = conn
            .query_row("SELECT secret FROM kit_key WHERE id = 1", [], |r| r.get(0))
            .optional()?
            .map(Zeroizing::new);
        let secret = secret.ok_or_else(|| KitError::Corrupted("the kit key is missing".into()))?;
        let bytes: [u8; 32] = secret
            .as_slice()
            .try_into()
            .map_err(|_| KitError::Corrupted("the kit key has the wrong length".into()))?;
        let bytes = Zeroizing::new(bytes);
        Ok(Session {
            home: self.home.clone(),
            tpm: self.tpm.clone(),
            conn,
            db_key,
            kit_key: SigningKey::from_bytes(&bytes),
            clerk,
            catalog: None,
            validators: HashMap::new(),
        })
    }
}

pub(crate) fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A clerk id from a display name: `c-` and the name in lower-case ASCII
/// (umlauts transliterated), e.g. "Clara Müller" → `c-clara-mueller`.
pub fn clerk_id_from_name(name: &str) -> String {
    let mut out = String::from("c-");
    for ch in name.trim().to_lowercase().chars() {
        match ch {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            c if c.is_ascii_alphanumeric() => out.push(c),
            _ => {
                if !out.ends_with('-') {
                    out.push('-');
                }
            }
        }
    }
    let trimmed = out.trim_end_matches('-');
    trimmed.chars().take(56).collect()
}

impl Session {
    /// The clerk who unlocked, or `None` for an IT recovery session.
    pub fn clerk(&self) -> Option<&ClerkId> {
        self.clerk.as_ref()
    }

    /// The kit's public key (the private one never leaves the store).
    pub fn kit_public_key(&self) -> VerifyingKey {
        self.kit_key.verifying_key()
    }

    /// Adds a clerk with their PIN. Allowed for any unlocked session (a clerk adding a
    /// colleague, or IT with the recovery secret).
    ///
    /// # Errors
    /// [`KitError::WeakPin`]; [`KitError::Conflict`] for an empty name.
    pub fn add_clerk(&mut self, name: &str, pin: &[u8]) -> Result<Clerk, KitError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(KitError::Conflict(
                "a clerk needs a name of 1 to 120 characters".into(),
            ));
        }
        keyslots::check_secret(pin, self.binds_to_tpm())?;
        let base = clerk_id_from_name(name);
        let base = if base.len() <= 2 {
            "c-clerk".to_owned()
        } else {
            base
        };
        let mut id = base.clone();
        let mut n = 2;
        while self
            .conn
            .query_row("SELECT 1 FROM clerks WHERE id = ?1", [&id], |_| Ok(()))
            .optional()?
            .is_some()
        {
            id = format!("{base}-{n}");
            n += 1;
        }
        let clerk_id = ClerkId::parse(&id)?;
        let created_at = now_text();
        // The slot first: a clerk row without a slot could never unlock, a slot without
        // a row is cleaned up by the next add with the same id.
        let mut slots = KeySlots::lock(&self.home.keyslots())?;
        let mut sealer = self.tpm.open()?;
        slots.set_clerk(&id, Some(name), &self.db_key, pin, sealer.as_deref_mut())?;
        self.conn.execute(
            "INSERT INTO clerks (id, name, created_at, created_by) VALUES (?1, ?2, ?3, ?4)",
            params![
                id,
                name,
                created_at,
                self.clerk.as_ref().map(ClerkId::as_str)
            ],
        )?;
        Ok(Clerk {
            id: clerk_id,
            name: name.to_owned(),
            created_at,
        })
    }

    /// All clerks.
    ///
    /// # Errors
    /// Database errors.
    pub fn clerks(&self) -> Result<Vec<Clerk>, KitError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, name, created_at FROM clerks ORDER BY created_at, id")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        rows.map(|row| {
            let (id, name, created_at) = row?;
            Ok(Clerk {
                id: ClerkId::parse(&id)?,
                name,
                created_at,
            })
        })
        .collect()
    }

    /// Whether clerk slots made now are bound to a TPM (so a short PIN is enough: the
    /// TPM counts wrong attempts), or need a passphrase ([`keyslots::check_secret`]).
    pub fn binds_to_tpm(&self) -> bool {
        self.tpm.tcti().is_some()
    }

    /// Changes the unlocked clerk's PIN.
    ///
    /// # Errors
    /// [`KitError::WeakPin`]; [`KitError::Conflict`] in a recovery session.
    pub fn change_pin(&mut self, new_pin: &[u8]) -> Result<(), KitError> {
        let clerk = self
            .clerk
            .clone()
            .ok_or_else(|| KitError::Conflict("a recovery session has no PIN to change".into()))?;
        let mut slots = KeySlots::lock(&self.home.keyslots())?;
        let mut sealer = self.tpm.open()?;
        slots.set_clerk(
            clerk.as_str(),
            None,
            &self.db_key,
            new_pin,
            sealer.as_deref_mut(),
        )
    }

    /// A second session of the same clerk on its own database connection (SQLite WAL
    /// lets both work at once): the auto-sync thread uses one, so the clerk's session is
    /// never blocked by a long upload. Locking either locks only that one.
    ///
    /// # Errors
    /// Store errors.
    pub fn reopen(&self) -> Result<Session, KitError> {
        Kit {
            home: self.home.clone(),
            tpm: self.tpm.clone(),
        }
        .open_session(self.db_key.clone(), self.clerk.clone())
    }

    /// Locks the kit: closes the store and zeroizes the kit key and database key.
    pub fn lock(self) {
        drop(self);
    }

    /// Runs raw SQL on the store: for tests that simulate corruption behind the
    /// library's back. Not for production use.
    #[doc(hidden)]
    pub fn debug_execute(&self, sql: &str) {
        if let Err(e) = self.conn.execute_batch(sql) {
            panic!("debug_execute failed: {e}");
        }
    }

    /// Entries in the purge log (metadata only).
    #[doc(hidden)]
    pub fn purge_log_len(&self) -> u64 {
        self.conn
            .query_row("SELECT count(*) FROM purge_log", [], |r| r.get(0))
            .unwrap_or(0)
    }

    pub(crate) fn require_clerk(&self) -> Result<ClerkId, KitError> {
        self.clerk.clone().ok_or_else(|| {
            KitError::Conflict("capturing needs a clerk session, not the recovery secret".into())
        })
    }

    pub(crate) fn meta(&self, key: &str) -> Result<Option<String>, KitError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    pub(crate) fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<(), KitError> {
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clerk_ids_transliterate_names() {
        assert_eq!(clerk_id_from_name("Clara Müller"), "c-clara-mueller");
        assert_eq!(
            clerk_id_from_name("  Jörg  Groß-Straße "),
            "c-joerg-gross-strasse"
        );
        assert_eq!(clerk_id_from_name("李"), "c");
    }
}
