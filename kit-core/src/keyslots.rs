//! Key slots: the database key is a random 256-bit key that never touches the disk in
//! the clear. Each slot wraps it under a key derived from a secret — a clerk's PIN or
//! passphrase, or IT's recovery secret — with Argon2id (64 MiB, 3 passes) and
//! XChaCha20-Poly1305, the slot id as associated data. Where the device has a TPM 2.0,
//! a clerk's slot key also needs a secret the TPM releases only to that PIN
//! ([`crate::tpm`]), so a copied folder cannot be guessed offline.
//!
//! The slots live in `keyslots.json` beside the database, because they must be read
//! before the database can be opened. Failed attempts are counted there too, so that
//! restarting the program does not reset the growing delay after wrong PINs.
//!
//! Every change (a counted attempt, a new PIN) is a read-check-write under an exclusive
//! OS lock on `keyslots.lock`, held from reading the file until the new one is renamed
//! into place, so parallel attempts — threads or processes — are each counted and none
//! overwrites another's count. The file is replaced atomically and is readable by its
//! owner only; a slot file that others may read, or that does not parse, stops the kit
//! with a clear message and is never reset.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sync_protocol::b64;
use zeroize::Zeroizing;

use crate::home::{open_private, write_atomic};
use crate::tpm::SlotSealer;
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
    /// The TPM-sealed half of the slot key (see [`crate::tpm`]), base64; absent for
    /// slots that rest on the Argon2id cost alone (recovery, no TPM, older kits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tpm: Option<String>,
    /// The clerk's name as entered, for the unlock screen: the names in the encrypted
    /// store cannot be read before an unlock, and an id like `c-clara-mueller` lost its
    /// umlaut. Absent in slots made before it was kept (the id's name is shown then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
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

/// The slots of one kit under the exclusive lock: every read-check-write goes through
/// this, and the lock is released when it is dropped.
#[derive(Debug)]
pub struct LockedSlots {
    slots: KeySlots,
    _lock: std::fs::File,
}

impl std::ops::Deref for LockedSlots {
    type Target = KeySlots;
    fn deref(&self) -> &KeySlots {
        &self.slots
    }
}

impl LockedSlots {
    /// See [`KeySlots::unlock`]: unwraps the database key, counting a failure.
    ///
    /// # Errors
    /// [`KitError::UnknownClerk`], [`KitError::TooManyAttempts`],
    /// [`KitError::WrongSecret`]; I/O errors.
    pub fn unlock(&mut self, id: &str, secret: &[u8], now: i64) -> Result<DbKey, KitError> {
        self.slots.unlock(id, secret, now, None)
    }

    /// As [`LockedSlots::unlock`], with the TPM a bound slot needs.
    ///
    /// # Errors
    /// As [`LockedSlots::unlock`]; [`KitError::Tpm`].
    pub fn unlock_with(
        &mut self,
        id: &str,
        secret: &[u8],
        now: i64,
        sealer: Option<&mut (dyn SlotSealer + 'static)>,
    ) -> Result<DbKey, KitError> {
        self.slots.unlock(id, secret, now, sealer)
    }

    /// Adds or replaces a clerk slot (new clerk, or changed PIN), bound to the TPM when
    /// one is given.
    ///
    /// # Errors
    /// [`KitError::WeakPin`]; [`KitError::Tpm`]; I/O errors.
    pub fn set_clerk(
        &mut self,
        id: &str,
        name: Option<&str>,
        db_key: &[u8; 32],
        pin: &[u8],
        sealer: Option<&mut (dyn SlotSealer + 'static)>,
    ) -> Result<(), KitError> {
        self.slots.set_clerk(id, name, db_key, pin, sealer)
    }

    /// Removes a clerk's slot.
    ///
    /// # Errors
    /// I/O errors.
    pub fn remove_clerk(&mut self, id: &str) -> Result<(), KitError> {
        self.slots.remove_clerk(id)
    }

    /// Failed attempts in a row of a slot, and until when it is delayed (Unix seconds).
    pub fn attempts(&self, id: &str) -> Option<(u32, Option<i64>)> {
        self.slots
            .file
            .slots
            .iter()
            .find(|s| s.id == id)
            .map(|s| (s.failed_attempts, s.locked_until))
    }
}

fn lock_file(path: &std::path::Path) -> Result<std::fs::File, KitError> {
    let lock_path = path.with_extension("lock");
    let file = open_private(&lock_path)
        .map_err(KitError::io(format!("opening {}", lock_path.display())))?;
    file.lock()
        .map_err(KitError::io(format!("locking {}", lock_path.display())))?;
    Ok(file)
}

/// Refuses a slot file (or kit folder) that others than its owner may read or change:
/// it may already have been copied for offline guessing, which IT must hear about.
#[cfg(unix)]
fn check_private(path: &std::path::Path) -> Result<(), KitError> {
    use std::os::unix::fs::PermissionsExt as _;
    let folder = path.parent().unwrap_or(std::path::Path::new("."));
    for p in [folder, path] {
        let mode = std::fs::metadata(p)
            .map_err(KitError::io(format!("reading {}", p.display())))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(KitError::Exposed {
                path: p.display().to_string(),
                mode: mode & 0o777,
            });
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &std::path::Path) -> Result<(), KitError> {
    Ok(())
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

/// The slot key of a TPM-bound slot: the Argon2id output and the secret the TPM
/// released, both needed.
fn bind_tpm(derived: &[u8; 32], released: &[u8]) -> Zeroizing<[u8; 32]> {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(b"fieldkit keyslot tpm v1");
    h.update(derived);
    h.update(released);
    Zeroizing::new(h.finalize().into())
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

fn wrap(
    id: &str,
    kind: SlotKind,
    db_key: &[u8; 32],
    secret: &[u8],
    sealer: Option<&mut (dyn SlotSealer + 'static)>,
) -> Result<Slot, KitError> {
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let kdf = Kdf {
        alg: "argon2id".into(),
        memory_kib: ARGON2_MEMORY_KIB,
        passes: ARGON2_PASSES,
        lanes: 1,
        salt: b64::encode(salt),
    };
    let derived = derive(secret, &kdf)?;
    let (kek, tpm) = match sealer {
        None => (derived, None),
        Some(sealer) => {
            let mut held = Zeroizing::new([0u8; 32]);
            OsRng.fill_bytes(held.as_mut());
            let sealed = sealer.seal(&derived, &held)?;
            (bind_tpm(&derived, held.as_ref()), Some(b64::encode(sealed)))
        }
    };
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
        tpm,
        name: None,
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
        let _lock = lock_file(path)?;
        if path.exists() {
            return Err(KitError::AlreadyInitialized(path.display().to_string()));
        }
        let mut slots = Self {
            path: path.to_owned(),
            file: SlotsFile {
                format: 1,
                // IT's recovery slot is never TPM-bound: it must open the kit on
                // another device when this one breaks. Its secret is 160 random bits.
                slots: vec![wrap(
                    RECOVERY_SLOT,
                    SlotKind::Recovery,
                    db_key,
                    recovery_secret,
                    None,
                )?],
            },
        };
        slots.save()?;
        Ok(slots)
    }

    /// Takes the exclusive lock (waiting for other unlocks to finish), then loads the
    /// file: the way to count an attempt or change a slot.
    ///
    /// # Errors
    /// As [`KeySlots::load`]; I/O errors of the lock.
    pub fn lock(path: &std::path::Path) -> Result<LockedSlots, KitError> {
        if !path.exists() {
            // No lock file in a folder that holds no kit.
            return Err(KitError::NotInitialized(
                path.parent().unwrap_or(path).display().to_string(),
            ));
        }
        let lock = lock_file(path)?;
        Ok(LockedSlots {
            slots: Self::load(path)?,
            _lock: lock,
        })
    }

    /// Loads the slots file to read it (clerk ids). Changes go through
    /// [`KeySlots::lock`].
    ///
    /// # Errors
    /// [`KitError::NotInitialized`] if it is missing; [`KitError::Exposed`] if others
    /// may read it or enter the folder; [`KitError::Corrupted`] if it cannot be parsed
    /// (truncated, edited).
    pub fn load(path: &std::path::Path) -> Result<Self, KitError> {
        if path.exists() {
            check_private(path)?;
        }
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
        if !(1..=2).contains(&file.format) {
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

    fn save(&mut self) -> Result<(), KitError> {
        // Format 2 marks TPM-bound slots, which an older Fieldkit cannot open.
        self.file.format = if self.file.slots.iter().any(|s| s.tpm.is_some()) {
            2
        } else {
            1
        };
        let json = serde_json::to_vec_pretty(&self.file)
            .map_err(|e| KitError::Corrupted(e.to_string()))?;
        write_atomic(&self.path, &json)
    }

    /// Every clerk's id and, where the slot keeps it, the name as entered.
    pub fn clerk_names(&self) -> Vec<(String, Option<String>)> {
        self.file
            .slots
            .iter()
            .filter(|s| s.kind == SlotKind::Clerk)
            .map(|s| (s.id.clone(), s.name.clone()))
            .collect()
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
    /// refuses attempts while the slot is delayed; an attempt refused for the delay is
    /// counted too (it was a guess nobody checked) and the delay grows with it. Call it
    /// on [`LockedSlots`] so that parallel attempts are each counted.
    ///
    /// # Errors
    /// [`KitError::UnknownClerk`], [`KitError::TooManyAttempts`],
    /// [`KitError::WrongSecret`].
    fn unlock(
        &mut self,
        id: &str,
        secret: &[u8],
        now: i64,
        sealer: Option<&mut (dyn SlotSealer + 'static)>,
    ) -> Result<DbKey, KitError> {
        let index = self
            .file
            .slots
            .iter()
            .position(|s| s.id == id)
            .ok_or_else(|| KitError::UnknownClerk(id.to_owned()))?;
        let slot = &mut self.file.slots[index];
        if let Some(until) = slot.locked_until.filter(|u| *u > now) {
            slot.failed_attempts = slot.failed_attempts.saturating_add(1);
            let until = until.max(now + delay_after(slot.failed_attempts));
            slot.locked_until = Some(until);
            self.save()?;
            return Err(KitError::TooManyAttempts {
                retry_after_secs: u64::try_from(until - now).unwrap_or(0),
            });
        }
        let slot = &self.file.slots[index];
        let derived = derive(secret, &slot.kdf)?;
        let kek = match &slot.tpm {
            None => derived,
            Some(sealed) => {
                let sealer = sealer.ok_or_else(|| {
                    KitError::Tpm(
                        "this PIN is bound to the TPM of the device the kit was set up on, and no TPM is available here (IT can open the kit with the recovery secret)".into(),
                    )
                })?;
                match sealer.unseal(&b64::decode("tpm", sealed)?, &derived) {
                    Ok(released) => bind_tpm(&derived, &released),
                    Err(KitError::WrongSecret { .. }) => return self.count_failure(index, now),
                    Err(e) => return Err(e),
                }
            }
        };
        let slot = &self.file.slots[index];
        let nonce = b64::decode_array::<24>("nonce", &slot.nonce)?;
        let wrapped = b64::decode("wrapped", &slot.wrapped)?;
        let opened = XChaCha20Poly1305::new(kek.as_ref().into()).decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &wrapped,
                aad: &aad(id),
            },
        );
        let Ok(bytes) = opened else {
            return self.count_failure(index, now);
        };
        let bytes = Zeroizing::new(bytes);
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KitError::Corrupted("wrapped key has the wrong length".into()))?;
        let slot = &mut self.file.slots[index];
        if slot.failed_attempts != 0 || slot.locked_until.is_some() {
            slot.failed_attempts = 0;
            slot.locked_until = None;
            self.save()?;
        }
        Ok(Zeroizing::new(key))
    }

    fn count_failure(&mut self, index: usize, now: i64) -> Result<DbKey, KitError> {
        let slot = &mut self.file.slots[index];
        slot.failed_attempts = slot.failed_attempts.saturating_add(1);
        let attempts = slot.failed_attempts;
        let delay = delay_after(attempts);
        slot.locked_until = (delay > 0).then_some(now + delay);
        self.save()?;
        Err(KitError::WrongSecret { attempts })
    }

    /// Whether a slot is bound to a TPM.
    pub fn is_tpm_bound(&self, id: &str) -> bool {
        self.file
            .slots
            .iter()
            .any(|s| s.id == id && s.tpm.is_some())
    }

    fn set_clerk(
        &mut self,
        id: &str,
        name: Option<&str>,
        db_key: &[u8; 32],
        pin: &[u8],
        sealer: Option<&mut (dyn SlotSealer + 'static)>,
    ) -> Result<(), KitError> {
        check_secret(pin, sealer.is_some())?;
        let mut slot = wrap(id, SlotKind::Clerk, db_key, pin, sealer)?;
        // A new PIN keeps the name the slot had.
        slot.name = name.map(str::to_owned).or_else(|| {
            self.file
                .slots
                .iter()
                .find(|s| s.id == id && s.kind == SlotKind::Clerk)
                .and_then(|s| s.name.clone())
        });
        self.file.slots.retain(|s| s.id != id);
        self.file.slots.push(slot);
        self.save()
    }

    /// Removes a clerk's slot.
    ///
    /// # Errors
    /// I/O errors.
    fn remove_clerk(&mut self, id: &str) -> Result<(), KitError> {
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

/// The shortest passphrase a clerk slot without a TPM accepts. With nothing but the
/// Argon2id cost between a copied kit folder and its data, a 6-digit PIN falls in about
/// 16 CPU-hours; docs/THREAT-MODEL.md gives the cost of this rule.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

/// The rule for a clerk's secret: [`check_pin`] always; without a TPM to count wrong
/// attempts (`tpm_bound` false) also a passphrase of at least
/// [`MIN_PASSPHRASE_CHARS`] characters that is not only digits.
///
/// # Errors
/// [`KitError::WeakPin`] saying why.
pub fn check_secret(secret: &[u8], tpm_bound: bool) -> Result<(), KitError> {
    check_pin(secret)?;
    if tpm_bound {
        return Ok(());
    }
    let text = String::from_utf8_lossy(secret);
    if text.chars().count() < MIN_PASSPHRASE_CHARS || text.chars().all(|c| c.is_ascii_digit()) {
        return Err(KitError::WeakPin(
            "this device has no TPM: a passphrase of at least 12 characters, not only digits",
        ));
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

    /// The offline cost of one guess (docs/THREAT-MODEL.md). Dependencies are built
    /// optimized even in the dev profile, so this is the release cost; run with
    /// `--nocapture` to see it.
    #[test]
    fn argon2id_cost_of_one_guess() {
        let kdf = Kdf {
            alg: "argon2id".into(),
            memory_kib: ARGON2_MEMORY_KIB,
            passes: ARGON2_PASSES,
            lanes: 1,
            salt: b64::encode([7u8; 16]),
        };
        let mut times: Vec<_> = (0..10)
            .map(|_| {
                let start = std::time::Instant::now();
                derive(b"739251", &kdf).expect("derive");
                start.elapsed()
            })
            .collect();
        times.sort();
        let median = times[times.len() / 2];
        eprintln!(
            "argon2id {ARGON2_MEMORY_KIB} KiB, {ARGON2_PASSES} passes, 1 lane: median {:.3} s (min {:.3}, max {:.3})",
            median.as_secs_f64(),
            times[0].as_secs_f64(),
            times[times.len() - 1].as_secs_f64()
        );
        assert!(
            median >= std::time::Duration::from_millis(20),
            "one guess must stay expensive"
        );
    }

    #[test]
    fn clerk_secrets_follow_the_pinned_vectors() {
        let vectors: serde_json::Value =
            serde_json::from_str(include_str!("../test-vectors/clerk-secrets.json"))
                .expect("vectors");
        let cases = vectors["cases"].as_array().expect("cases");
        assert!(cases.len() >= 10);
        for case in cases {
            let secret = case["secret"].as_str().expect("secret");
            let tpm = case["tpm"].as_bool().expect("tpm");
            let got = match check_secret(secret.as_bytes(), tpm) {
                Ok(()) => "ok",
                Err(KitError::WeakPin(why)) if why.contains("at least 6") => "too_short",
                Err(KitError::WeakPin(why)) if why.contains("TPM") => "passphrase",
                Err(KitError::WeakPin(_)) => "weak",
                Err(e) => panic!("{secret}: {e}"),
            };
            assert_eq!(got, case["expect"], "{secret} (tpm {tpm})");
        }
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
