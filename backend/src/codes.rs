//! One-time enrolment codes: 12 characters of Crockford's base32 in three groups
//! (`7KQ2-M9XD-4HTB`, 60 random bits), short-lived and single use. Only a hash of the
//! normalized code is stored, so a database dump does not hand out enrolments.
//!
//! Normalization forgives what people mistype when reading a code aloud or off paper:
//! case, spaces and hyphens, and Crockford's look-alikes (`O`→`0`, `I`/`L`→`1`).
//!
//! Failed enrolments are limited per client address ([`FailureLimiter`]): one address
//! trying many codes waits, and does not block another address's enrolment.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand_core::{OsRng, RngCore as _};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A fresh random code.
pub fn generate() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; 8]);
    OsRng.fill_bytes(bytes.as_mut());
    let mut bits = u64::from_be_bytes(*bytes);
    let mut out = Zeroizing::new(String::with_capacity(14));
    for i in 0..12 {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[(bits & 31) as usize]));
        bits >>= 5;
    }
    out
}

/// The stored form: SHA-256 of a domain label and the normalized code.
pub fn hash(code: &str) -> [u8; 32] {
    let normalized: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    let mut hasher = Sha256::new();
    hasher.update(b"fieldkit-backend/v1 enrolment-code:");
    hasher.update(normalized.as_bytes());
    hasher.finalize().into()
}

/// Failed enrolments (unknown, expired or used codes) accepted from one client address
/// per [`FAILURE_WINDOW`] before its further enrolments get 429. Codes have 60 random
/// bits, so guessing is hopeless anyway; the limit caps the work and log noise one
/// client causes without letting it block others. Kept in memory on purpose: it guards
/// no data (each process of a shared database counts for itself).
pub const FAILURES_PER_WINDOW: usize = 30;
/// The window of [`FAILURES_PER_WINDOW`].
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked at once; beyond it, new addresses share one count (a flood from
/// very many addresses then limits itself, never the memory).
pub const TRACKED_CLIENTS: usize = 10_000;
/// The shared key of [`TRACKED_CLIENTS`].
const OVERFLOW: &str = "overflow";

/// Recent enrolment failures per client address (a [`crate::login_throttle::client_key`]).
#[derive(Debug, Default)]
pub struct FailureLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl FailureLimiter {
    /// Seconds `client` must wait before its next enrolment, while too many of its
    /// recent ones failed.
    pub fn retry_after(&self, client: &str, now: Instant) -> Option<u64> {
        let mut all = self.failures.lock().ok()?;
        let key = if all.contains_key(client) {
            client
        } else {
            OVERFLOW
        };
        let times = all.get_mut(key)?;
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= FAILURE_WINDOW)
        {
            times.pop_front();
        }
        if times.len() < FAILURES_PER_WINDOW {
            return None;
        }
        let oldest = *times.front()?;
        Some((FAILURE_WINDOW - now.duration_since(oldest)).as_secs() + 1)
    }

    /// Counts a failed enrolment of `client`.
    pub fn note(&self, client: &str, now: Instant) {
        let Ok(mut all) = self.failures.lock() else {
            return;
        };
        if !all.contains_key(client) && all.len() >= TRACKED_CLIENTS {
            all.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < FAILURE_WINDOW)
            });
        }
        let key = if all.contains_key(client) || all.len() < TRACKED_CLIENTS {
            client
        } else {
            OVERFLOW
        };
        all.entry(key.to_owned()).or_default().push_back(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_of_one_address_do_not_make_another_wait() {
        let limiter = FailureLimiter::default();
        let start = Instant::now();
        for _ in 0..FAILURES_PER_WINDOW {
            assert_eq!(limiter.retry_after("192.0.2.1", start), None);
            limiter.note("192.0.2.1", start);
        }
        assert_eq!(limiter.retry_after("192.0.2.1", start), Some(61));
        assert_eq!(limiter.retry_after("192.0.2.2", start), None);
        let later = start + Duration::from_secs(45);
        assert_eq!(limiter.retry_after("192.0.2.1", later), Some(16));
        assert_eq!(
            limiter.retry_after("192.0.2.1", start + FAILURE_WINDOW),
            None
        );
    }

    #[test]
    fn beyond_the_tracked_addresses_new_ones_share_a_count_and_memory_stays_bounded() {
        let limiter = FailureLimiter::default();
        let now = Instant::now();
        for i in 0..TRACKED_CLIENTS + FAILURES_PER_WINDOW {
            limiter.note(&format!("a{i}"), now);
        }
        assert!(limiter.failures.lock().expect("lock").len() <= TRACKED_CLIENTS + 1);
        assert!(limiter.retry_after("someone-new", now).is_some());
        assert_eq!(
            limiter.retry_after("a1", now),
            None,
            "tracked ones count alone"
        );
        // Once their failures are old, the tracked addresses make room again.
        let later = now + FAILURE_WINDOW;
        limiter.note("newcomer", later);
        assert_eq!(limiter.failures.lock().expect("lock").len(), 1);
    }

    #[test]
    fn codes_have_three_groups_and_survive_sloppy_typing() {
        let code = generate();
        assert_eq!(code.len(), 14);
        assert_eq!(code.matches('-').count(), 2);
        assert_ne!(*code, *generate());
        assert_eq!(hash("7KQ2-M9XD-4HTB"), hash("7kq2 m9xd 4htb"));
        assert_eq!(hash("1O00-0000-0000"), hash("L000-0000-0000"));
        assert_ne!(hash("7KQ2-M9XD-4HTB"), hash("7KQ2-M9XD-4HTC"));
    }
}
