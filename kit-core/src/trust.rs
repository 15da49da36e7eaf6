//! What this kit trusts about its backend after enrolment: the server signing keys
//! (receipts, catalogs, signed changes) and the TLS certificate pins. Both start as the
//! enrolment left them and change only through verified `server_key` and `tls_pin`
//! changes of the backend's signed feed (PROTOCOL.md §2.5, §6.5), with an overlap:
//! the replaced key (or the earlier pins) stay trusted until `overlap_until`, then drop
//! out. Nothing here ever widens trust to a key or pin that the currently trusted key
//! did not sign for.
//!
//! Stored as JSON in the kit database's `meta` table under `trust`, written in the same
//! transaction as the change cursor that covers it.

use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use sync_protocol::api::{ChangeKind, ServerKey, TlsPin};
use sync_protocol::change::TrustedKey;

use crate::kit::{sync_protocol_time, Session};
use crate::KitError;

/// A server key and until when it is trusted (`None`: until replaced).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedServerKey {
    /// The key as the backend published it.
    pub key: ServerKey,
    /// End of its overlap after a rotation, as a protocol timestamp.
    pub until: Option<String>,
}

/// A TLS pin and until when it is trusted (`None`: until replaced).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedPin {
    /// The pin.
    pub pin: TlsPin,
    /// End of its overlap after a certificate change, as a protocol timestamp.
    pub until: Option<String>,
}

/// The kit's trust in its backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustState {
    /// Server signing keys.
    pub server_keys: Vec<TrustedServerKey>,
    /// TLS pins; empty for a kit that trusts the platform's certificate authorities (or
    /// talks plain HTTP on loopback), which then ignores pin rollovers.
    pub tls_pins: Vec<TrustedPin>,
    /// Server keys whose overlap ended: no longer trusted for anything new, kept only to
    /// check the receipts they signed while they were trusted (a receipt stays evidence).
    #[serde(default)]
    pub retired_server_keys: Vec<ServerKey>,
}

/// What applying one change did to the trust state, for the sync report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustUpdate {
    /// The change was not about trust.
    None,
    /// A new server key is trusted.
    ServerKey(String),
    /// A new TLS pin is trusted.
    TlsPin(String),
    /// A pin rollover reached a kit that does not pin (nothing changed).
    PinIgnored,
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Still trusted at `now`: no end, or an end not yet passed. An unreadable end counts as
/// passed (trust is never extended by a damaged value).
fn in_force(until: Option<&str>, now: DateTime<Utc>) -> bool {
    until.is_none_or(|u| parse_time(u).is_some_and(|u| now <= u))
}

/// The earlier of an existing end and a new one.
fn shorten(until: &mut Option<String>, new_end: DateTime<Utc>) {
    let keep = until
        .as_deref()
        .and_then(parse_time)
        .is_some_and(|old| old <= new_end);
    if !keep {
        *until = Some(sync_protocol_time(new_end));
    }
}

impl TrustState {
    /// The trust an enrolment establishes.
    pub fn from_enrolment(enrolment: &crate::Enrolment) -> Self {
        Self {
            server_keys: enrolment
                .server_keys
                .iter()
                .map(|key| TrustedServerKey {
                    key: key.clone(),
                    until: None,
                })
                .collect(),
            tls_pins: enrolment
                .tls_pin
                .iter()
                .map(|pin| TrustedPin {
                    pin: pin.clone(),
                    until: None,
                })
                .collect(),
            retired_server_keys: Vec::new(),
        }
    }

    /// Every server key this kit ever trusted, retired ones included: for re-checking
    /// stored receipts, never for accepting anything new.
    ///
    /// # Errors
    /// As [`TrustState::server_keys_at`].
    pub fn receipt_keys(&self) -> Result<Vec<VerifyingKey>, KitError> {
        self.server_keys
            .iter()
            .map(|k| &k.key)
            .chain(&self.retired_server_keys)
            .map(|k| k.to_key().map_err(KitError::from))
            .collect()
    }

    /// The server keys trusted at `now`.
    ///
    /// # Errors
    /// [`KitError::Protocol`] for a stored key that is not a valid key for its id.
    pub fn server_keys_at(&self, now: DateTime<Utc>) -> Result<Vec<VerifyingKey>, KitError> {
        self.server_keys
            .iter()
            .filter(|k| in_force(k.until.as_deref(), now))
            .map(|k| k.key.to_key().map_err(KitError::from))
            .collect()
    }

    /// The server keys trusted at `now`, for verifying a page of signed changes.
    ///
    /// # Errors
    /// As [`TrustState::server_keys_at`].
    pub fn verifier_keys(&self, now: DateTime<Utc>) -> Result<Vec<TrustedKey>, KitError> {
        Ok(self
            .server_keys_at(now)?
            .into_iter()
            .map(TrustedKey::new)
            .collect())
    }

    /// The TLS pins trusted at `now` (empty: the kit does not pin).
    pub fn pins_at(&self, now: DateTime<Utc>) -> Vec<TlsPin> {
        self.tls_pins
            .iter()
            .filter(|p| in_force(p.until.as_deref(), now))
            .map(|p| p.pin.clone())
            .collect()
    }

    /// Applies one **verified** change (the caller has checked its signature, and for a
    /// `server_key` change that the key it replaces signed it). Applying twice is
    /// harmless. Entries whose overlap ended before `now` are dropped.
    pub fn apply(&mut self, change: &ChangeKind, now: DateTime<Utc>) -> TrustUpdate {
        let update = match change {
            ChangeKind::ServerKey {
                key,
                replaces,
                overlap_until,
            } => {
                for old in self
                    .server_keys
                    .iter_mut()
                    .filter(|k| &k.key.key_id == replaces && k.key.key_id != key.key_id)
                {
                    shorten(&mut old.until, *overlap_until);
                }
                match self
                    .server_keys
                    .iter_mut()
                    .find(|k| k.key.key_id == key.key_id)
                {
                    Some(existing) => existing.until = None,
                    None => self.server_keys.push(TrustedServerKey {
                        key: key.clone(),
                        until: None,
                    }),
                }
                TrustUpdate::ServerKey(key.key_id.clone())
            }
            ChangeKind::TlsPin { pin, overlap_until } => {
                if self.tls_pins.is_empty() {
                    return TrustUpdate::PinIgnored;
                }
                for old in self.tls_pins.iter_mut().filter(|p| &p.pin != pin) {
                    shorten(&mut old.until, *overlap_until);
                }
                match self.tls_pins.iter_mut().find(|p| &p.pin == pin) {
                    Some(existing) => existing.until = None,
                    None => self.tls_pins.push(TrustedPin {
                        pin: pin.clone(),
                        until: None,
                    }),
                }
                TrustUpdate::TlsPin(pin.spki_sha256.clone())
            }
            _ => TrustUpdate::None,
        };
        let (kept, ended): (Vec<_>, Vec<_>) = std::mem::take(&mut self.server_keys)
            .into_iter()
            .partition(|k| in_force(k.until.as_deref(), now));
        self.server_keys = kept;
        for k in ended {
            if !self.retired_server_keys.contains(&k.key) {
                self.retired_server_keys.push(k.key);
            }
        }
        self.tls_pins.retain(|p| in_force(p.until.as_deref(), now));
        update
    }
}

impl Session {
    /// This kit's trust in its backend: as the last verified rollover left it, or as
    /// enrolment established it.
    ///
    /// # Errors
    /// [`KitError::NotEnrolled`]; [`KitError::Corrupted`] for an unreadable stored state.
    pub fn trust_state(&self) -> Result<TrustState, KitError> {
        match self.meta("trust")? {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| KitError::Corrupted(format!("trust state: {e}"))),
            None => Ok(TrustState::from_enrolment(&self.require_enrolment()?)),
        }
    }

    /// Stores the trust state (inside the caller's transaction).
    pub(crate) fn store_trust(conn: &Connection, state: &TrustState) -> Result<(), KitError> {
        let json = serde_json::to_string(state).map_err(|e| KitError::Corrupted(e.to_string()))?;
        Session::set_meta(conn, "trust", &json)
    }

    /// A client for `base_url` (the enrolled URL, or another node of the same backend)
    /// enforcing the TLS pins trusted now.
    ///
    /// # Errors
    /// As [`crate::net::Backend::with_pins`].
    pub fn backend_at(&self, base_url: &str) -> Result<crate::net::Backend, KitError> {
        let pins = self.trust_state()?.pins_at(Utc::now());
        crate::net::Backend::with_pins(base_url, &pins)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    fn key(n: u8) -> ServerKey {
        ServerKey::from_key(&SigningKey::from_bytes(&[n; 32]).verifying_key())
    }

    fn pin(n: u8) -> TlsPin {
        TlsPin {
            spki_sha256: format!("{n:02x}").repeat(32),
            cert_sha256: format!("{n:02x}").repeat(32),
        }
    }

    fn t(day: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_000_000 + day * 86_400, 0).expect("time")
    }

    fn state() -> TrustState {
        TrustState {
            server_keys: vec![TrustedServerKey {
                key: key(1),
                until: None,
            }],
            tls_pins: vec![TrustedPin {
                pin: pin(1),
                until: None,
            }],
            retired_server_keys: Vec::new(),
        }
    }

    #[test]
    fn a_rotation_trusts_both_keys_until_the_overlap_ends_then_only_the_new_one() {
        let mut s = state();
        let rotation = ChangeKind::ServerKey {
            key: key(2),
            replaces: key(1).key_id,
            overlap_until: t(30),
        };
        assert_eq!(
            s.apply(&rotation, t(0)),
            TrustUpdate::ServerKey(key(2).key_id)
        );
        assert_eq!(s.server_keys_at(t(29)).expect("keys").len(), 2);
        assert_eq!(
            s.server_keys_at(t(31)).expect("keys"),
            vec![key(2).to_key().expect("key")]
        );
        let again = s.clone();
        s.apply(&rotation, t(1));
        assert_eq!(s, again, "applying twice is harmless");
        // A later, longer overlap for the same key does not extend it.
        s.apply(
            &ChangeKind::ServerKey {
                key: key(2),
                replaces: key(1).key_id,
                overlap_until: t(90),
            },
            t(2),
        );
        assert_eq!(s.server_keys_at(t(31)).expect("keys").len(), 1);
        s.apply(&ChangeKind::Wipe { reason: "x".into() }, t(31));
        assert_eq!(s.server_keys.len(), 1, "expired keys are no longer trusted");
        assert_eq!(s.retired_server_keys, vec![key(1)]);
        assert_eq!(
            s.receipt_keys().expect("keys").len(),
            2,
            "receipts the retired key signed still check"
        );
    }

    #[test]
    fn a_pin_rollover_keeps_the_old_pin_until_the_overlap_ends() {
        let mut s = state();
        let rollover = ChangeKind::TlsPin {
            pin: pin(2),
            overlap_until: t(14),
        };
        s.apply(&rollover, t(0));
        assert_eq!(s.pins_at(t(13)), vec![pin(1), pin(2)]);
        assert_eq!(s.pins_at(t(15)), vec![pin(2)]);
        let mut unpinned = TrustState {
            tls_pins: Vec::new(),
            ..state()
        };
        assert!(unpinned.pins_at(t(0)).is_empty());
        assert_eq!(unpinned.apply(&rollover, t(0)), TrustUpdate::PinIgnored);
        assert!(
            unpinned.pins_at(t(0)).is_empty(),
            "a kit that does not pin stays so"
        );
    }

    #[test]
    fn a_damaged_end_date_ends_trust_rather_than_extending_it() {
        let mut s = state();
        s.server_keys[0].until = Some("not a time".into());
        assert!(s.server_keys_at(t(0)).expect("keys").is_empty());
    }
}
