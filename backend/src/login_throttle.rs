//! The back-office login throttle as pure rules: who may have a password checked now,
//! and how long the others wait. The store applies [`admit`] inside the transaction that
//! counts the attempt ([`crate::storage::Store::admit_login`]), so parallel attempts
//! cannot all pass one read of the counter; the office calls the store before any
//! password is checked.
//!
//! Two counters per login name (known or not, so the answer does not reveal which names
//! exist):
//!
//! - per **client address** ([`PER_CLIENT`]): 5 free attempts, then a wait of 1 minute
//!   doubling per further failure up to 1 hour. An attacker at one address therefore
//!   locks out only that address: the right password from another address still works.
//! - per **account** over all addresses ([`PER_ACCOUNT`]): 100 free attempts, then the
//!   same growing wait for every address. This is what a distributed attack gets: at
//!   most 100 guesses plus about 24 a day per account, at the price that an attacker
//!   with ≥ 20 addresses can make the account wait (availability traded for guessing).
//!
//! Each attempt is counted *before* its password check and undone by a successful login
//! (the client's failures are forgotten and taken off the account's count). Rows whose
//! last failure is older than [`FORGET_AFTER`] are purged, so made-up names do not grow
//! the table forever.

use std::net::{IpAddr, SocketAddr};

use chrono::{DateTime, Duration, Utc};

/// How failures turn into waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Failures allowed before the waiting begins.
    pub free: u32,
    /// The first wait; it doubles with each further failure.
    pub first_wait: Duration,
    /// The longest wait.
    pub max_wait: Duration,
}

impl Limit {
    /// How long to wait after `failures` failed attempts (counted from the last one);
    /// `None` while another attempt may be checked at once.
    pub fn wait(&self, failures: u32) -> Option<Duration> {
        let over = failures.checked_sub(self.free)?;
        let factor = 1i32.checked_shl(over.min(16)).unwrap_or(i32::MAX);
        Some(
            self.first_wait
                .checked_mul(factor)
                .map_or(self.max_wait, |d| d.min(self.max_wait)),
        )
    }
}

/// The limit per (login name, client address).
pub const PER_CLIENT: Limit = Limit {
    free: 5,
    first_wait: Duration::minutes(1),
    max_wait: Duration::hours(1),
};

/// The limit per login name over all client addresses.
pub const PER_ACCOUNT: Limit = Limit {
    free: 100,
    first_wait: Duration::minutes(1),
    max_wait: Duration::hours(1),
};

/// Failure rows untouched this long are purged (longer than any wait, so a running
/// wait is never cut short).
pub const FORGET_AFTER: Duration = Duration::hours(24);

/// The `client` of the per-account row in `login_failures` (no address looks like it).
pub const ACCOUNT_WIDE: &str = "*";

/// The counted failures of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginFailures {
    /// Failures since the last successful login (from this client, or in all).
    pub failures: u32,
    /// The most recent one.
    pub last_failure_at: DateTime<Utc>,
}

/// What an attempt may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Count it and check the password.
    Check,
    /// Refuse it unchecked (and uncounted) for this long.
    Wait(Duration),
}

fn remaining(limit: &Limit, row: Option<&LoginFailures>, now: DateTime<Utc>) -> Duration {
    row.and_then(|r| limit.wait(r.failures).map(|w| r.last_failure_at + w - now))
        .unwrap_or_else(Duration::zero)
}

/// Whether an attempt with these counts (before counting it) may be checked at `now`.
pub fn admit(
    client: Option<&LoginFailures>,
    account: Option<&LoginFailures>,
    now: DateTime<Utc>,
) -> Admission {
    let wait = remaining(&PER_CLIENT, client, now).max(remaining(&PER_ACCOUNT, account, now));
    if wait > Duration::zero() {
        Admission::Wait(wait)
    } else {
        Admission::Check
    }
}

/// The throttle's name for a client address: an IPv4 address as is, an IPv6 address by
/// its /64 network (one subscriber usually holds a whole /64), an IPv4-mapped IPv6
/// address as IPv4.
pub fn client_key(addr: Option<SocketAddr>) -> String {
    match addr.map(|a| a.ip()) {
        None => "unknown".to_owned(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_grows_after_the_free_attempts_and_is_capped() {
        let l = PER_CLIENT;
        assert_eq!(l.wait(0), None);
        assert_eq!(l.wait(4), None);
        assert_eq!(l.wait(5), Some(Duration::minutes(1)));
        assert_eq!(l.wait(6), Some(Duration::minutes(2)));
        assert_eq!(l.wait(8), Some(Duration::minutes(8)));
        assert_eq!(l.wait(15), Some(Duration::hours(1)));
        assert_eq!(l.wait(u32::MAX), Some(Duration::hours(1)));
        assert_eq!(PER_ACCOUNT.wait(99), None);
        assert_eq!(PER_ACCOUNT.wait(100), Some(Duration::minutes(1)));
    }

    #[test]
    fn either_counter_can_make_an_attempt_wait_and_the_longer_wait_wins() {
        let now = Utc::now();
        let row = |failures, ago| LoginFailures {
            failures,
            last_failure_at: now - Duration::seconds(ago),
        };
        assert_eq!(admit(None, None, now), Admission::Check);
        assert_eq!(
            admit(Some(&row(4, 0)), Some(&row(99, 0)), now),
            Admission::Check
        );
        assert_eq!(
            admit(Some(&row(5, 10)), Some(&row(5, 10)), now),
            Admission::Wait(Duration::seconds(50))
        );
        // The wait is over.
        assert_eq!(admit(Some(&row(5, 61)), None, now), Admission::Check);
        assert_eq!(
            admit(Some(&row(0, 0)), Some(&row(101, 30)), now),
            Admission::Wait(Duration::seconds(90))
        );
        assert_eq!(
            admit(Some(&row(6, 0)), Some(&row(100, 0)), now),
            Admission::Wait(Duration::minutes(2))
        );
    }

    #[test]
    fn addresses_are_keyed_by_host_and_ipv6_by_its_64_network() {
        let a = |s: &str| Some(s.parse::<SocketAddr>().expect("addr"));
        assert_eq!(client_key(a("192.0.2.7:5000")), "192.0.2.7");
        assert_eq!(client_key(a("[::ffff:192.0.2.7]:1")), "192.0.2.7");
        assert_eq!(
            client_key(a("[2001:db8:1:2:aaaa::1]:1")),
            client_key(a("[2001:db8:1:2:bbbb::9]:2"))
        );
        assert_ne!(
            client_key(a("[2001:db8:1:2::1]:1")),
            client_key(a("[2001:db8:1:3::1]:1"))
        );
        assert_eq!(client_key(None), "unknown");
        assert_ne!(client_key(a("127.0.0.1:1")), ACCOUNT_WIDE);
    }
}
