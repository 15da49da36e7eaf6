//! Secrets at rest. One 32-byte **master key** (from a key file, from
//! `FIELDKIT_MASTER_KEY`, or generated into the data folder of an embedded setup) seals
//! every private key the database holds: the server's ed25519 signing key (receipts,
//! catalogs) and each authority's X25519 HPKE keys. Sealing is XChaCha20-Poly1305 with
//! a random nonce and associated data naming what the key is and whose it is, so a
//! sealed key copied into another authority's row does not open.
//!
//! Stored form: `0x01 ‖ nonce (24) ‖ ciphertext with tag`.

use std::fmt;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use rand_core::{OsRng, RngCore};
use sync_protocol::ids::AuthorityId;
use sync_protocol::receipt::ed25519_key_id;
use sync_protocol::seal::{self, AuthoritySecretKey};
use zeroize::Zeroizing;

/// Environment variable that may hold the master key (base64 of 32 bytes).
pub const ENV_MASTER_KEY: &str = "FIELDKIT_MASTER_KEY";
/// File name of a generated master key inside the data folder.
pub const GENERATED_KEY_FILE: &str = "master.key";

const FORMAT_V1: u8 = 1;

/// What can go wrong with keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// No master key is configured and none may be generated.
    #[error(
        "no master key: set FIELDKIT_MASTER_KEY or master_key_file (a key is generated \
         automatically only for the embedded SQLite store)"
    )]
    NoMasterKey,
    /// The master key file cannot be read or written.
    #[error("master key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The master key text is not base64 of 32 bytes.
    #[error("the master key must be base64 of exactly 32 bytes")]
    BadMasterKey,
    /// A sealed key does not open: wrong master key, or the row was tampered with.
    #[error("a stored {0} does not open with this master key (wrong key, or tampered row)")]
    Unseal(&'static str),
}

/// The master key. Zeroized on drop; never printed.
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// Where the master key comes from, in order of precedence.
#[derive(Clone)]
pub struct MasterKeySource {
    /// The text of `FIELDKIT_MASTER_KEY`, if set.
    pub env: Option<Zeroizing<String>>,
    /// A configured key file.
    pub file: Option<PathBuf>,
    /// The data folder where a key may be generated (embedded setups only).
    pub generate_in: Option<PathBuf>,
}

impl fmt::Debug for MasterKeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKeySource")
            .field("env", &self.env.as_ref().map(|_| "<redacted>"))
            .field("file", &self.file)
            .field("generate_in", &self.generate_in)
            .finish()
    }
}

/// How the master key was obtained, for the one log line about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterKeyOrigin {
    /// From the environment.
    Env,
    /// From a file.
    File(PathBuf),
    /// Generated now into this file.
    Generated(PathBuf),
    /// Handed over by the running server (the back office's admin pages).
    Server,
}

impl MasterKey {
    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A second handle on the same key (for the back office's admin functions).
    pub(crate) fn duplicate(&self) -> Self {
        Self::from_bytes(*self.0)
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(bytes.as_mut());
        Self(bytes)
    }

    /// Parses the base64 text form.
    ///
    /// # Errors
    /// [`KeyError::BadMasterKey`].
    pub fn from_text(text: &str) -> Result<Self, KeyError> {
        let bytes = sync_protocol::b64::decode_array::<32>("master key", text.trim())
            .map_err(|_| KeyError::BadMasterKey)?;
        Ok(Self::from_bytes(bytes))
    }

    /// The base64 text form (for writing a key file).
    pub fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(sync_protocol::b64::encode(self.0.as_ref()))
    }

    /// Loads the key: environment first, then the file, else (embedded setups) the
    /// generated file in the data folder, creating it with mode 0600 if missing.
    ///
    /// # Errors
    /// [`KeyError`] when no source is usable.
    pub fn load(source: &MasterKeySource) -> Result<(Self, MasterKeyOrigin), KeyError> {
        if let Some(text) = &source.env {
            return Ok((Self::from_text(text)?, MasterKeyOrigin::Env));
        }
        if let Some(path) = &source.file {
            return Ok((Self::read_file(path)?, MasterKeyOrigin::File(path.clone())));
        }
        let Some(dir) = &source.generate_in else {
            return Err(KeyError::NoMasterKey);
        };
        let path = dir.join(GENERATED_KEY_FILE);
        if path.exists() {
            return Ok((Self::read_file(&path)?, MasterKeyOrigin::File(path)));
        }
        let key = Self::generate();
        write_private_file(&path, key.to_text().as_bytes())?;
        Ok((key, MasterKeyOrigin::Generated(path)))
    }

    fn read_file(path: &Path) -> Result<Self, KeyError> {
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|source| KeyError::Io {
                    path: path.display().to_string(),
                    source,
                })?,
            );
        Self::from_text(&text)
    }

    fn seal(&self, aad: &[u8], secret: &[u8]) -> Vec<u8> {
        let cipher = XChaCha20Poly1305::new(self.0.as_ref().into());
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        // Encryption with a valid key and nonce cannot fail.
        let ct = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: secret, aad })
            .unwrap_or_default();
        let mut out = Vec::with_capacity(1 + 24 + ct.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    fn open(
        &self,
        what: &'static str,
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        if sealed.len() < 1 + 24 + 16 || sealed[0] != FORMAT_V1 {
            return Err(KeyError::Unseal(what));
        }
        let cipher = XChaCha20Poly1305::new(self.0.as_ref().into());
        cipher
            .decrypt(
                XNonce::from_slice(&sealed[1..25]),
                Payload {
                    msg: &sealed[25..],
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| KeyError::Unseal(what))
    }
}

fn write_private_file(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    use std::io::Write as _;
    let io = |source| KeyError::Io {
        path: path.display().to_string(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)
}

/// `t` at the millisecond precision the stores keep.
fn millis(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

fn authority_aad(authority: &AuthorityId, key_id: &str) -> Vec<u8> {
    format!("fieldkit-backend/v1 authority-hpke-key:{authority}:{key_id}").into_bytes()
}

fn server_aad(key_id: &str) -> Vec<u8> {
    format!("fieldkit-backend/v1 server-signing-key:{key_id}").into_bytes()
}

/// A new authority HPKE key pair, its private half sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedAuthorityKey {
    /// Key id (§2.4).
    pub key_id: String,
    /// The X25519 public key.
    pub public_key: [u8; 32],
    /// The private key sealed with the master key.
    pub sealed_secret: Vec<u8>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl SealedAuthorityKey {
    /// Generates a key pair for `authority` and seals its private key.
    pub fn generate(master: &MasterKey, authority: &AuthorityId, now: DateTime<Utc>) -> Self {
        let (secret, public) = seal::generate_authority_keypair(&mut OsRng);
        let key_id = public.key_id();
        let sealed_secret = master.seal(
            &authority_aad(authority, &key_id),
            secret.to_bytes().as_ref(),
        );
        Self {
            key_id,
            public_key: public.0,
            sealed_secret,
            created_at: millis(now),
        }
    }

    /// Opens the private key (for reviewers of `authority` only; a later issue).
    ///
    /// # Errors
    /// [`KeyError::Unseal`].
    pub fn open(
        &self,
        master: &MasterKey,
        authority: &AuthorityId,
    ) -> Result<AuthoritySecretKey, KeyError> {
        let bytes = master.open(
            "authority key",
            &authority_aad(authority, &self.key_id),
            &self.sealed_secret,
        )?;
        let array: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::Unseal("authority key"))?;
        Ok(AuthoritySecretKey::from_bytes(array))
    }
}

/// The server signing key as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedServerKey {
    /// Key id (§2.3).
    pub key_id: String,
    /// The ed25519 public key.
    pub public_key: [u8; 32],
    /// The private key sealed with the master key.
    pub sealed_secret: Vec<u8>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl SealedServerKey {
    /// Generates a server signing key and seals it.
    pub fn generate(master: &MasterKey, now: DateTime<Utc>) -> Self {
        let key = SigningKey::generate(&mut OsRng);
        let key_id = ed25519_key_id(&key.verifying_key());
        let sealed_secret = master.seal(&server_aad(&key_id), key.to_bytes().as_ref());
        Self {
            key_id,
            public_key: key.verifying_key().to_bytes(),
            sealed_secret,
            created_at: millis(now),
        }
    }

    /// The key as published to kits (enrolment, rollover changes).
    pub fn published(&self) -> sync_protocol::api::ServerKey {
        sync_protocol::api::ServerKey {
            key_id: self.key_id.clone(),
            public_key: sync_protocol::b64::encode(self.public_key),
        }
    }

    /// Opens the signing key and checks it matches the stored public key.
    ///
    /// # Errors
    /// [`KeyError::Unseal`].
    pub fn open(&self, master: &MasterKey) -> Result<SigningKey, KeyError> {
        let bytes = master.open(
            "server signing key",
            &server_aad(&self.key_id),
            &self.sealed_secret,
        )?;
        let array: Zeroizing<[u8; 32]> = Zeroizing::new(
            bytes
                .as_slice()
                .try_into()
                .map_err(|_| KeyError::Unseal("server signing key"))?,
        );
        let key = SigningKey::from_bytes(&array);
        if key.verifying_key().to_bytes() != self.public_key {
            return Err(KeyError::Unseal("server signing key"));
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authority(id: &str) -> AuthorityId {
        AuthorityId::parse(id).expect("valid slug")
    }

    #[test]
    fn an_authority_key_opens_only_for_its_own_authority_and_master_key() {
        let master = MasterKey::generate();
        let ours = authority("gemeinde-a");
        let sealed = SealedAuthorityKey::generate(&master, &ours, Utc::now());
        let secret = sealed.open(&master, &ours).expect("opens");
        assert_eq!(
            secret.public_key().expect("valid").key_id(),
            sealed.key_id,
            "the sealed secret belongs to the published key"
        );
        assert!(sealed.open(&master, &authority("gemeinde-b")).is_err());
        assert!(sealed.open(&MasterKey::generate(), &ours).is_err());
    }

    #[test]
    fn the_server_key_round_trips_and_detects_a_wrong_master_key() {
        let master = MasterKey::generate();
        let sealed = SealedServerKey::generate(&master, Utc::now());
        let key = sealed.open(&master).expect("opens");
        assert_eq!(ed25519_key_id(&key.verifying_key()), sealed.key_id);
        assert!(matches!(
            sealed.open(&MasterKey::generate()),
            Err(KeyError::Unseal(_))
        ));
    }

    #[test]
    fn a_generated_master_key_is_written_once_and_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let source = MasterKeySource {
            env: None,
            file: None,
            generate_in: Some(dir.path().to_path_buf()),
        };
        let (first, origin) = MasterKey::load(&source).expect("generates");
        assert!(matches!(origin, MasterKeyOrigin::Generated(_)));
        let (second, origin) = MasterKey::load(&source).expect("reads");
        assert!(matches!(origin, MasterKeyOrigin::File(_)));
        assert_eq!(first.to_text(), second.to_text());
        let no_source = MasterKeySource {
            generate_in: None,
            ..source
        };
        assert!(matches!(
            MasterKey::load(&no_source),
            Err(KeyError::NoMasterKey)
        ));
        assert_eq!(format!("{first:?}"), "MasterKey(<redacted>)");
    }
}
