//! Key slots: the database key is a random 256-bit key that never touches the disk in
//! the clear. Each slot wraps it under a key derived from a secret — a clerk's PIN or
//! passphrase, or IT's recovery secret — with Argon2id (64 MiB, 3 passes) and
//! XChaCha20-Poly1305, the slot id as associated data.
//!
//! The slots live in `keyslots.json` beside the database, because they must be read
//! before the database can be opened. Failed attempts are counted there too, so that
//! restarting the program does not reset the growing delay after wrong PINs.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sync_protocol::b64;
use zeroize::Zeroizing;

use crate::home::write_atomic;
use crate::KitError;

/// Argon2id memory cost in KiB (64 MiB, the floor the kit's threat model asks for).
pub const ARGON2_MEMORY_KIB: u32 = 64 * 1024;
/// Argon2id passes.
pub const ARGON2_PASSES: u32 = 3;
/// Wrong attempts allowed before delays start.
pub const FREE_ATTEMPTS: u32 = 3;
/// The longest delay after wrong attempts, in seconds.
pub const MAX_DELAY_SECS: i64 = 15 * 60;

/// The database key, zeroized on drop.
pub type DbKey = Zeroizing<[u8; 32]>;

/// Who a slot belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotKind {
    /// A clerk's PIN or passphrase.
    Clerk,
    /// IT's recovery secret from provisioning.
    Recovery,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Kdf {
    alg: String,
    memory_kib: u32,
    passes: u32,
    lanes: u32,
    salt: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Slot {
    id: String,
    kind: SlotKind,
    kdf: Kdf,
    nonce: String,
    wrapped: String,
    failed_attempts: u32,
    locked_until: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlotsFile {
    format: u32,
    slots: Vec<Slot>,
}

/// The key slots of one kit, loaded from disk.
#[derive(Debug)]
pub struct KeySlots {
    path: std::path::PathBuf,
    file: SlotsFile,
}

/// The id of IT's recovery slot.
pub const RECOVERY_SLOT: &str = "recovery";

fn derive(secret: &[u8], kdf: &Kdf) -> Result<Zeroizing<[u8; 32]>, KitError> {
    let salt = b64::decode("kdf.salt", &kdf.salt)?;
    let params = Params::new(kdf.memory_kib, kdf.passes, kdf.lanes, Some(32))
        .map_err(|e| KitError::Corrupted(format!("key slot parameters: {e}")))?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(secret, &salt, out.as_mut())
        .map_err(|e| KitError::Corrupted(format!("key slot derivation: {e}")))?;
    Ok(out)
}

fn aad(id: &str) -> Vec<u8> {
    format!("fieldkit keyslot v1:{id}").into_bytes()
}

/// The delay after `attempts` wrong attempts in a row: none for the first few, then
/// 5 s doubling up to [`MAX_DELAY_SECS`].
pub fn delay_after(attempts: u32) -> i64 {
    if attempts < FREE_ATTEMPTS {
        return 0;
    }
    let doublings = (attempts - FREE_ATTEMPTS).min(16);
    (5_i64 << doublings).min(MAX_DELAY_SECS)
}

fn wrap(id: &str, kind: SlotKind, db_key: &[u8; 32], secret: &[u8]) -> Result<Slot, KitError> {
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let kdf = Kdf {
        alg: "argon2id".into(),
        memory_kib: ARGON2_MEMORY_KIB,
        passes: ARGON2_PASSES,
        lanes: 1,
        salt: b64::encode(salt),
    };
    let kek = derive(secret, &kdf)?;
    let mut nonce = [0u8; 24];
    OsRng.fill_bytes(&mut nonce);
    let wrapped = XChaCha20Poly1305::new(kek.as_ref().into())
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: db_key,
                aad: &aad(id),
            },
        )
        .map_err(|_| KitError::Corrupted("key wrapping failed".into()))?;
    Ok(Slot {
        id: id.to_owned(),
        kind,
        kdf,
        nonce: b64::encode(nonce),
        wrapped: b64::encode(wrapped),
        failed_attempts: 0,
        locked_until: None,
    })
}

impl KeySlots {
    /// Creates the slots file with the recovery slot. Refuses to overwrite.
    ///
    /// # Errors
    /// [`KitError::AlreadyInitialized`] if the file exists; I/O errors.
    pub fn create(
        path: &std::path::Path,
        db_key: &[u8; 32],
        recovery_secret: &[u8],
    ) -> Result<Self, KitError> {
        if path.exists() {
            return Err(KitError::AlreadyInitialized(path.display().to_string()));
        }
        let slots = Self {
            path: path.to_owned(),
            file: SlotsFile {
                format: 1,
                slots: vec![wrap(
                    RECOVERY_SLOT,
                    SlotKind::Recovery,
                    db_key,
                    recovery_secret,
                )?],
            },
        };
        slots.save()?;
        Ok(slots)
    }

    /// Loads the slots file.
    ///
    /// # Errors
    /// [`KitError::NotInitialized`] if it is missing; [`KitError::Corrupted`] if it
    /// cannot be parsed.
    pub fn load(path: &std::path::Path) -> Result<Self, KitError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KitError::NotInitialized(
                    path.parent().unwrap_or(path).display().to_string(),
                ))
            }
            Err(e) => return Err(KitError::io(format!("reading {}", path.display()))(e)),
        };
        let file: SlotsFile = serde_json::from_str(&text)
            .map_err(|e| KitError::Corrupted(format!("{}: {e}", path.display())))?;
        if file.format != 1 {
            return Err(KitError::Corrupted(format!(
                "unknown key slot format {}",
                file.format
            )));
        }
        Ok(Self {
            path: path.to_owned(),
            file,
        })
    }

    fn save(&self) -> Result<(), KitError> {
        let json = serde_json::to_vec_pretty(&self.file)
            .map_err(|e| KitError::Corrupted(e.to_string()))?;
        write_atomic(&self.path, &json)
    }

    /// The ids of the clerk slots.
    pub fn clerk_ids(&self) -> Vec<String> {
        self.file
            .slots
            .iter()
            .filter(|s| s.kind == SlotKind::Clerk)
            .map(|s| s.id.clone())
            .collect()
    }

    /// Whether a slot exists.
    pub fn has(&self, id: &str) -> bool {
        self.file.slots.iter().any(|s| s.id == id)
    }

    /// Unwraps the database key with a slot's secret. Counts failures on disk and
    /// refuses attempts while the slot is delayed.
    ///
    /// # Errors
    /// [`KitError::UnknownClerk`], [`KitError::TooManyAttempts`],
    /// [`KitError::WrongSecret`].
    pub fn unlock(&mut self, id: &str, secret: &[u8], now: i64) -> Result<DbKey, KitError> {
        let index = self
            .file
            .slots
            .iter()
            .position(|s| s.id == id)
            .ok_or_else(|| KitError::UnknownClerk(id.to_owned()))?;
        let slot = &self.file.slots[index];
        if let Some(until) = slot.locked_until.filter(|u| *u > now) {
            return Err(KitError::TooManyAttempts {
                retry_after_secs: u64::try_from(until - now).unwrap_or(0),
            });
        }
        let kek = derive(secret, &slot.kdf)?;
        let nonce = b64::decode_array::<24>("nonce", &slot.nonce)?;
        let wrapped = b64::decode("wrapped", &slot.wrapped)?;
        let opened = XChaCha20Poly1305::new(kek.as_ref().into()).decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &wrapped,
                aad: &aad(id),
            },
        );
        let slot = &mut self.file.slots[index];
        match opened {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                let key: [u8; 32] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| KitError::Corrupted("wrapped key has the wrong length".into()))?;
                if slot.failed_attempts != 0 || slot.locked_until.is_some() {
                    slot.failed_attempts = 0;
                    slot.locked_until = None;
                    self.save()?;
                }
                Ok(Zeroizing::new(key))
            }
            Err(_) => {
                slot.failed_attempts += 1;
                let attempts = slot.failed_attempts;
                let delay = delay_after(attempts);
                slot.locked_until = (delay > 0).then_some(now + delay);
                self.save()?;
                Err(KitError::WrongSecret { attempts })
            }
        }
    }

    /// Adds or replaces a clerk slot (new clerk, or changed PIN).
    ///
    /// # Errors
    /// [`KitError::WeakPin`]; I/O errors.
    pub fn set_clerk(&mut self, id: &str, db_key: &[u8; 32], pin: &[u8]) -> Result<(), KitError> {
        check_pin(pin)?;
        let slot = wrap(id, SlotKind::Clerk, db_key, pin)?;
        self.file.slots.retain(|s| s.id != id);
        self.file.slots.push(slot);
        self.save()
    }

    /// Removes a clerk's slot.
    ///
    /// # Errors
    /// I/O errors.
    pub fn remove_clerk(&mut self, id: &str) -> Result<(), KitError> {
        self.file
            .slots
            .retain(|s| !(s.id == id && s.kind == SlotKind::Clerk));
        self.save()
    }
}

/// A PIN has at least 6 characters and is not one repeated character or an obvious
/// run such as 123456.
///
/// # Errors
/// [`KitError::WeakPin`] saying why.
pub fn check_pin(pin: &[u8]) -> Result<(), KitError> {
    if pin.len() < 6 {
        return Err(KitError::WeakPin("at least 6 characters"));
    }
    if pin.iter().all(|b| *b == pin[0]) {
        return Err(KitError::WeakPin("not one repeated character"));
    }
    let ascending = pin.windows(2).all(|w| w[1] == w[0].wrapping_add(1));
    let descending = pin.windows(2).all(|w| w[0] == w[1].wrapping_add(1));
    if ascending || descending {
        return Err(KitError::WeakPin("not a simple run like 123456"));
    }
    Ok(())
}

/// A fresh recovery secret: 20 random bytes as five groups of Crockford base32
/// (32 characters), e.g. `7KQ4M-2XPAB-…`, for IT to keep on paper or in a vault.
pub fn new_recovery_secret() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; 20]);
    OsRng.fill_bytes(bytes.as_mut());
    let text = crate::codes::crockford(bytes.as_ref());
    Zeroizing::new(
        text.as_bytes()
            .chunks(8)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-"),
    )
}

/// Normalizes a typed recovery secret: upper case, no dashes or spaces.
pub fn normalize_recovery_secret(typed: &str) -> Zeroizing<String> {
    Zeroizing::new(
        typed
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| c.to_ascii_uppercase())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_after_three_wrong_attempts_and_double_up_to_a_cap() {
        assert_eq!((0..=3).map(delay_after).collect::<Vec<_>>(), [0, 0, 0, 5]);
        assert_eq!(delay_after(4), 10);
        assert_eq!(delay_after(5), 20);
        assert_eq!(delay_after(40), MAX_DELAY_SECS);
    }

    #[test]
    fn weak_pins_are_refused() {
        for weak in ["12345", "000000", "123456", "987654", "aaaaaaaa"] {
            assert!(check_pin(weak.as_bytes()).is_err(), "{weak}");
        }
        for ok in ["739251", "Sonnenblume 7", "204913"] {
            assert!(check_pin(ok.as_bytes()).is_ok(), "{ok}");
        }
    }

    #[test]
    fn recovery_secrets_are_grouped_and_normalize_back() {
        let s = new_recovery_secret();
        assert_eq!(s.len(), 32 + 3);
        assert_eq!(
            normalize_recovery_secret(&s.to_lowercase()).as_str(),
            s.replace('-', "")
        );
    }
}
