//! Back-office passwords: Argon2id (the `argon2` crate's defaults, RFC 9106's second
//! recommended parameter set) in PHC string form, and generated random passwords for
//! the demo. Passwords are never logged or stored in the clear.
//!
//! Each check costs about 19 MiB and tens of milliseconds of one core, so checks go
//! through a [`CheckGate`]: at most one per core at a time ([`CheckGate::for_this_host`]);
//! a request that finds no free slot within [`CheckGate::QUEUE_WAIT`] is turned away
//! (the office answers 503 with `Retry-After`), so a login storm costs bounded memory
//! and never piles up. Each slot's 19 MiB of Argon2 blocks is allocated once and reused
//! ([`verify_in`]): allocating it afresh on whichever blocking thread ran the check let
//! glibc keep it resident per thread arena — a login storm with two checks at a time
//! took the backend to 910 MB (`tests/e2e/hostile_load.rs`).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore as _};
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

/// Why a password cannot be hashed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Shorter than [`MIN_LENGTH`] characters.
    #[error("a password needs at least {MIN_LENGTH} characters")]
    TooShort,
    /// The hasher failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// The shortest password accepted.
pub const MIN_LENGTH: usize = 12;

/// Hashes a password with Argon2id and a random salt.
///
/// # Errors
/// [`PasswordError`].
pub fn hash(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_LENGTH {
        return Err(PasswordError::TooShort);
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches a stored PHC string.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Whether `password` matches a stored PHC string, computed in `memory` (resized to the
/// hash's block count and kept by the caller for the next check) instead of a fresh
/// allocation. Same result as [`verify`] for every Argon2 PHC string.
pub fn verify_in(password: &str, phc: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(params), Ok(algorithm)) =
        (Params::try_from(&hash), Algorithm::try_from(hash.algorithm))
    else {
        return false;
    };
    let version = match hash.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    memory.resize(params.block_count(), Block::default());
    let mut out = Zeroizing::new(vec![0u8; expected.len()]);
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..])
        .is_ok()
        && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
}

/// Bounds the password checks running at once and counts them.
#[derive(Debug)]
pub struct CheckGate {
    slots: Arc<tokio::sync::Semaphore>,
    size: usize,
    checks: Arc<AtomicU64>,
    running: Arc<Running>,
    memory: Arc<Memory>,
}

/// The Argon2 working memory of the slots: at most one buffer per slot ever exists,
/// each allocated once.
#[derive(Debug, Default)]
struct Memory(Mutex<Vec<Vec<Block>>>);

impl Memory {
    fn take(&self) -> Vec<Block> {
        self.0
            .lock()
            .map(|mut free| free.pop().unwrap_or_default())
            .unwrap_or_default()
    }

    fn give_back(&self, buffer: Vec<Block>) {
        if let Ok(mut free) = self.0.lock() {
            free.push(buffer);
        }
    }
}

/// Checks running now and the most that ever ran at once.
#[derive(Debug, Default)]
struct Running {
    now: AtomicUsize,
    peak: AtomicUsize,
}

/// Every slot of the [`CheckGate`] stayed busy for [`CheckGate::QUEUE_WAIT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("all password-check slots are busy")]
pub struct Busy;

/// A slot of the [`CheckGate`]; the check runs while it is held — on its blocking
/// thread, so a cancelled request does not free the slot before the check ends.
#[derive(Debug)]
pub struct CheckSlot {
    checks: Arc<AtomicU64>,
    running: Arc<Running>,
    memory: Arc<Memory>,
    permit: tokio::sync::OwnedSemaphorePermit,
}

impl CheckGate {
    /// How long a request waits for a free slot before it is turned away.
    pub const QUEUE_WAIT: Duration = Duration::from_secs(2);

    /// A gate with `size` slots (at least one).
    pub fn new(size: usize) -> Self {
        let size = size.max(1);
        Self {
            slots: Arc::new(tokio::sync::Semaphore::new(size)),
            size,
            checks: Arc::new(AtomicU64::new(0)),
            running: Arc::new(Running::default()),
            memory: Arc::new(Memory::default()),
        }
    }

    /// One slot per core this process may use. Also makes the dummy hash now, so the
    /// first check of an unknown login does not take longer than the others.
    pub fn for_this_host() -> Self {
        let _ = dummy_hash();
        Self::new(std::thread::available_parallelism().map_or(1, usize::from))
    }

    /// The number of slots.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Password checks run through this gate so far (known and unknown names alike).
    pub fn checks(&self) -> u64 {
        self.checks.load(Ordering::Relaxed)
    }

    /// The most password checks that ever ran at once (never above [`Self::size`]).
    pub fn peak(&self) -> usize {
        self.running.peak.load(Ordering::Relaxed)
    }

    /// Waits up to [`Self::QUEUE_WAIT`] for a free slot.
    ///
    /// # Errors
    /// [`Busy`] when none became free.
    pub async fn slot(&self) -> Result<CheckSlot, Busy> {
        let acquire = Arc::clone(&self.slots).acquire_owned();
        match tokio::time::timeout(Self::QUEUE_WAIT, acquire).await {
            Ok(Ok(permit)) => Ok(CheckSlot {
                checks: Arc::clone(&self.checks),
                running: Arc::clone(&self.running),
                memory: Arc::clone(&self.memory),
                permit,
            }),
            _ => Err(Busy),
        }
    }
}

impl CheckSlot {
    /// Checks `password` against `phc` on a blocking thread; without a stored hash (an
    /// unknown or disabled login) against a dummy hash with the same parameters, so the
    /// time taken does not reveal which logins exist.
    pub async fn verify(self, password: Zeroizing<String>, phc: Option<String>) -> bool {
        self.run(move |memory| match phc {
            Some(phc) => verify_in(&password, &phc, memory),
            None => {
                let _ = verify_in(&password, dummy_hash(), memory);
                false
            }
        })
        .await
        .unwrap_or(false)
    }

    /// Runs `work` (password checks and hashing) on a blocking thread while holding the
    /// slot, with the slot's Argon2 memory for [`verify_in`]; `None` if the thread
    /// failed.
    pub async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Option<T> {
        self.checks.fetch_add(1, Ordering::Relaxed);
        let (permit, running, memory) = (self.permit, self.running, self.memory);
        tokio::task::spawn_blocking(move || {
            let now = running.now.fetch_add(1, Ordering::SeqCst) + 1;
            running.peak.fetch_max(now, Ordering::SeqCst);
            let mut buffer = memory.take();
            let out = work(&mut buffer);
            memory.give_back(buffer);
            running.now.fetch_sub(1, Ordering::SeqCst);
            drop(permit);
            out
        })
        .await
        .ok()
    }
}

/// A hash of a random password, made once per process, for checks of unknown logins.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash(&generate()).unwrap_or_default())
}

/// A random password of 20 characters from an alphabet without look-alikes.
pub fn generate() -> Zeroizing<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut out = Zeroizing::new(String::with_capacity(20));
    while out.len() < 20 {
        let b = (OsRng.next_u32() & 0xff) as usize;
        // Rejection sampling keeps every character equally likely.
        if b < ALPHABET.len() * (256 / ALPHABET.len()) {
            out.push(char::from(ALPHABET[b % ALPHABET.len()]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_password_verifies_and_another_does_not() {
        let pw = generate();
        let phc = hash(&pw).expect("hashes");
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify(&pw, &phc));
        assert!(!verify("not the password", &phc));
        assert!(matches!(hash("short"), Err(PasswordError::TooShort)));
    }

    #[test]
    fn checking_in_reused_memory_agrees_with_the_library_on_every_input() {
        let mut memory = Vec::new();
        let pw = generate();
        let phc = hash(&pw).expect("hashes");
        // A PHC string with other parameters (less memory, other passes, argon2i).
        let salt = SaltString::generate(&mut OsRng);
        let other = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            Params::new(8 * 1024, 3, 1, Some(24)).expect("params"),
        )
        .hash_password(pw.as_bytes(), &salt)
        .expect("hashes")
        .to_string();
        for (candidate, stored) in [
            (pw.as_str(), phc.as_str()),
            ("not the password", phc.as_str()),
            (pw.as_str(), other.as_str()),
            ("not the password", other.as_str()),
            (pw.as_str(), "not a PHC string"),
            (pw.as_str(), "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$"),
            (pw.as_str(), &phc[..phc.len() - 4]),
            (
                pw.as_str(),
                "$scrypt$ln=4,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
            ),
        ] {
            assert_eq!(
                verify_in(candidate, stored, &mut memory),
                verify(candidate, stored),
                "{candidate} / {stored}"
            );
        }
        assert!(
            verify_in(&pw, &phc, &mut memory),
            "the same buffer serves again"
        );
        assert!(
            verify_in(&pw, &other, &mut memory),
            "and resizes for other parameters"
        );
    }

    #[tokio::test]
    async fn the_gate_turns_a_request_away_when_every_slot_stays_busy() {
        let gate = CheckGate::new(1);
        let held = gate.slot().await.expect("a free slot");
        let started = std::time::Instant::now();
        assert_eq!(gate.slot().await.err(), Some(Busy));
        assert!(started.elapsed() >= CheckGate::QUEUE_WAIT);
        // A check holds its slot until it ends, then the slot is free again.
        let phc = hash("the right password").expect("hashes");
        assert!(
            held.verify(Zeroizing::new("the right password".into()), Some(phc))
                .await
        );
        let slot = gate.slot().await.expect("free again");
        assert!(!slot.verify(Zeroizing::new("x".into()), None).await);
        assert_eq!((gate.checks(), gate.peak(), gate.size()), (2, 1, 1));
    }
}
