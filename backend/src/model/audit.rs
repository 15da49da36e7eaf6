//! An authority's audit trail: the admin events appended after each administrative
//! action, and the entries, query and page of the audit viewer (which reads
//! `case_events`, `decryption_log` and `admin_events` as one list).

use chrono::{DateTime, Utc};
use sync_protocol::ids::AuthorityId;

/// What an admin event records.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString, strum::VariantArray,
)]
#[strum(serialize_all = "kebab-case")]
pub enum AdminAction {
    /// A kit was provisioned (target: kit id; detail: its name).
    KitProvisioned,
    /// A kit was revoked (target: kit id; detail: the reason).
    KitRevoked,
    /// A kit's quarantine was lifted (target: kit id).
    KitReleased,
    /// A user was added (target: login; detail: role).
    UserAdded,
    /// A user was disabled (target: login).
    UserDisabled,
    /// An authority was added (target: its id).
    AuthorityAdded,
    /// An authority's HPKE key was rotated (target: its id; detail: the new key id).
    AuthorityKeyRotated,
    /// A catalog version was published (target: version; no authority).
    CatalogPublished,
    /// The server signing key was rotated (target: the new key id; detail: the key it
    /// replaces and the overlap).
    ServerKeyRotated,
    /// A new TLS certificate pin was announced to kits (target: its SPKI hash; detail:
    /// the overlap).
    TlsPinAnnounced,
    /// A user's role was changed (target: login; detail: `old → new`).
    UserRoleChanged,
    /// A user change waits for a second admin (target: login; detail: `add <role>` or
    /// `role <role>`).
    UserChangeRequested,
    /// A pending user change was confirmed by a second admin, who is the actor (target:
    /// login; detail: the change and who requested it).
    UserChangeConfirmed,
    /// A pending user change was withdrawn (target: login; detail: the change).
    UserChangeWithdrawn,
    /// A user set their own password (target: login; the actor is the user).
    PasswordSet,
    /// The four-eyes rule of an authority was switched (target: its id; detail: on/off).
    FourEyesSet,
    /// A blocked kit's held-records file was imported (target: kit id; detail: the
    /// positions and what became of each, the statement's hash).
    KitHeldImported,
}

/// One admin action, appended after it succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminEvent {
    /// When.
    pub at: DateTime<Utc>,
    /// Who: a back-office login, or `cli` / `cli:<os user>` for the admin CLI.
    pub actor: String,
    /// Whose trail it belongs to; `None` for events of the whole installation
    /// (catalog publication), which every authority's trail shows.
    pub authority_id: Option<AuthorityId>,
    /// What was done.
    pub action: AdminAction,
    /// To what (kit id, login, authority id, catalog version).
    pub target: String,
    /// A reason, role or key id; never a code or password.
    pub detail: Option<String>,
}

/// Which of the three trails an entry comes from.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[strum(serialize_all = "kebab-case")]
pub enum AuditSource {
    /// `admin_events`.
    Admin,
    /// `case_events`.
    Case,
    /// `decryption_log`.
    Decryption,
}

/// One entry of an authority's audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Which trail.
    pub source: AuditSource,
    /// Its id within that trail.
    pub id: u64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// The case (record id) or the admin event's target.
    pub subject: String,
    /// The status set, the decryption's purpose, or the admin action's name.
    pub action: String,
    /// The comment, reason or role, if any.
    pub detail: Option<String>,
}

/// Where a page of the trail continues: the last entry of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditCursor {
    /// Its time.
    pub at: DateTime<Utc>,
    /// Its trail.
    pub source: AuditSource,
    /// Its id.
    pub id: u64,
}

impl AuditCursor {
    /// The text form used in links: `<at ms>_<source>_<id>`.
    pub fn to_text(&self) -> String {
        format!(
            "{}_{}_{}",
            self.at.timestamp_millis(),
            self.source.as_str(),
            self.id
        )
    }

    /// Parses [`AuditCursor::to_text`]'s form.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.splitn(3, '_');
        let (ms, source, id) = (parts.next()?, parts.next()?, parts.next()?);
        let digits =
            |s: &str| !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(ms) || !digits(id) {
            return None;
        }
        Some(Self {
            at: DateTime::from_timestamp_millis(ms.parse().ok()?)?,
            source: AuditSource::parse(source)?,
            id: id.parse().ok()?,
        })
    }
}

/// Which part of an authority's trail to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// The authority (always the reader's own).
    pub authority_id: AuthorityId,
    /// Only these trails (empty: all).
    pub sources: Vec<AuditSource>,
    /// Only entries of this person (exact login or CLI actor).
    pub actor: Option<String>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub before: Option<DateTime<Utc>>,
    /// Continue after this entry.
    pub after: Option<AuditCursor>,
    /// At most this many entries.
    pub limit: u32,
}

/// One page of the trail, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    /// The entries.
    pub entries: Vec<AuditEntry>,
    /// Where the next page starts, if there is one.
    pub next: Option<AuditCursor>,
}

super::stored_names!(AdminAction, AuditSource);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_rejects_junk() {
        let cursor = AuditCursor {
            at: DateTime::from_timestamp_millis(1_790_000_000_123).expect("time"),
            source: AuditSource::Decryption,
            id: 42,
        };
        assert_eq!(AuditCursor::parse(&cursor.to_text()), Some(cursor));
        for junk in [
            "",
            "1_admin",
            "x_admin_1",
            "1_other_1",
            "1_admin_-1",
            "1_admin_x",
        ] {
            assert_eq!(AuditCursor::parse(junk), None, "{junk}");
        }
    }

    #[test]
    fn actions_and_sources_round_trip() {
        for &a in AdminAction::ALL {
            assert_eq!(AdminAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(AdminAction::ALL.len(), 17);
        assert_eq!(AdminAction::parse("kit_provisioned"), None);
        let mut names: Vec<&str> = AuditSource::ALL.iter().map(|s| s.as_str()).collect();
        names.sort_unstable();
        let in_order: Vec<&str> = AuditSource::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, in_order, "the SQL orders by name like the enum");
    }
}
