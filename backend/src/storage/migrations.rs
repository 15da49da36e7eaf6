//! Versioned schema migrations for both stores. Each migration is a version number, a
//! name and one SQL script per dialect; both scripts create the same logical schema
//! (SQLite spells byte strings `BLOB` and counts with a `counters` table, PostgreSQL
//! uses `BYTEA` and sequences). A store applies, in one transaction each, every
//! migration newer than the highest version recorded in `schema_migrations`, and
//! refuses to start on a database newer than this build.
//!
//! Rules: never edit a migration that has shipped; add a new one. Times are stored as
//! milliseconds since the epoch (`BIGINT`), ids as their canonical text, hashes and keys
//! as raw bytes.

/// One schema step.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Strictly increasing from 1.
    pub version: i64,
    /// What it does.
    pub name: &'static str,
    /// The script for SQLite.
    pub sqlite: &'static str,
    /// The script for PostgreSQL.
    pub postgres: &'static str,
}

/// Every migration, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial schema",
        sqlite: V1_SQLITE,
        postgres: V1_POSTGRES,
    },
    Migration {
        version: 2,
        name: "back office: sessions, login throttling, decryption log, inbox indexes",
        sqlite: V2_SQLITE,
        postgres: V2_POSTGRES,
    },
    Migration {
        version: 3,
        name: "back office: assignment, clerk filter, counts per kit and status, filter indexes",
        sqlite: include_str!("migrations/v3.sqlite.sql"),
        postgres: include_str!("migrations/v3.postgres.sql"),
    },
    Migration {
        version: 4,
        name: "back office: admin audit trail (admin_events), audit viewer indexes",
        sqlite: include_str!("migrations/v4.sqlite.sql"),
        postgres: include_str!("migrations/v4.postgres.sql"),
    },
    Migration {
        version: 5,
        name: "kit lifecycle: case flags, draining revocation, forwarding",
        sqlite: include_str!("migrations/v5.sqlite.sql"),
        postgres: include_str!("migrations/v5.postgres.sql"),
    },
    Migration {
        version: 6,
        name: "back office: login failures per (login, client address) and per account",
        sqlite: include_str!("migrations/v6.sqlite.sql"),
        postgres: include_str!("migrations/v6.postgres.sql"),
    },
    Migration {
        version: 7,
        name: "back office: own passwords, four-eyes confirmation of user changes",
        sqlite: include_str!("migrations/v7.sqlite.sql"),
        postgres: include_str!("migrations/v7.postgres.sql"),
    },
    Migration {
        version: 8,
        name: "kit lifecycle: chain bridges, the way out of a blocked queue",
        sqlite: include_str!("migrations/v8.sqlite.sql"),
        postgres: include_str!("migrations/v8.postgres.sql"),
    },
];

/// The newest schema version this build knows.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The bookkeeping table, same in both dialects.
pub const SCHEMA_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)";

const V1_SQLITE: &str = r"
CREATE TABLE authorities (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    ars TEXT,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE authority_keys (
    key_id TEXT PRIMARY KEY,
    authority_id TEXT NOT NULL REFERENCES authorities(id),
    public_key BLOB NOT NULL,
    sealed_secret BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
CREATE UNIQUE INDEX authority_keys_current ON authority_keys(authority_id) WHERE retired_at IS NULL;
CREATE TABLE server_keys (
    key_id TEXT PRIMARY KEY,
    public_key BLOB NOT NULL,
    sealed_secret BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    current BOOLEAN NOT NULL
);
CREATE UNIQUE INDEX server_keys_current ON server_keys(current) WHERE current;
CREATE TABLE users (
    login TEXT PRIMARY KEY,
    authority_id TEXT NOT NULL REFERENCES authorities(id),
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE kits (
    kit_id TEXT PRIMARY KEY,
    authority_id TEXT NOT NULL REFERENCES authorities(id),
    name TEXT NOT NULL,
    reported_name TEXT,
    public_key BLOB UNIQUE,
    status TEXT NOT NULL,
    revoked_reason TEXT,
    code_hash BLOB NOT NULL UNIQUE,
    code_expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    enrolled_at BIGINT,
    last_seen_at BIGINT,
    head_seq BIGINT,
    head_hash BLOB
);
CREATE TABLE nonces (
    kit_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (kit_id, nonce)
);
CREATE INDEX nonces_seen_at ON nonces(seen_at);
CREATE TABLE records (
    kit_id TEXT NOT NULL REFERENCES kits(kit_id),
    seq BIGINT NOT NULL,
    record_id TEXT NOT NULL UNIQUE,
    hash BLOB NOT NULL,
    envelope BLOB NOT NULL,
    outcome TEXT NOT NULL,
    problem TEXT,
    receipt BLOB,
    log_position BIGINT UNIQUE,
    received_at BIGINT NOT NULL,
    authority_id TEXT NOT NULL,
    form_id TEXT NOT NULL,
    form_version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    ref_record_id TEXT,
    PRIMARY KEY (kit_id, seq)
);
CREATE TABLE cases (
    record_id TEXT PRIMARY KEY REFERENCES records(record_id),
    authority_id TEXT NOT NULL REFERENCES authorities(id),
    status TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX cases_inbox ON cases(authority_id, status);
CREATE TABLE case_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL REFERENCES cases(record_id),
    status TEXT NOT NULL,
    comment TEXT,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE TABLE fork_evidence (
    hash BLOB PRIMARY KEY,
    kit_id TEXT NOT NULL REFERENCES kits(kit_id),
    seq BIGINT NOT NULL,
    record_id TEXT NOT NULL,
    envelope BLOB NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE TABLE attachments (
    attachment_id TEXT PRIMARY KEY,
    ciphertext_size BIGINT NOT NULL,
    ciphertext_sha256 BLOB NOT NULL,
    created BOOLEAN NOT NULL,
    upload_offset BIGINT NOT NULL,
    complete BOOLEAN NOT NULL,
    completed_at BIGINT
);
CREATE TABLE record_attachments (
    record_id TEXT NOT NULL REFERENCES records(record_id),
    attachment_id TEXT NOT NULL REFERENCES attachments(attachment_id),
    position BIGINT NOT NULL,
    PRIMARY KEY (record_id, attachment_id)
);
CREATE INDEX record_attachments_by_attachment ON record_attachments(attachment_id);
CREATE TABLE catalogs (
    version TEXT PRIMARY KEY,
    envelope BLOB NOT NULL,
    etag TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    current BOOLEAN NOT NULL
);
CREATE UNIQUE INDEX catalogs_current ON catalogs(current) WHERE current;
CREATE TABLE changes (
    cursor BIGINT PRIMARY KEY,
    kit_id TEXT,
    at BIGINT NOT NULL,
    change TEXT NOT NULL
);
CREATE INDEX changes_by_kit ON changes(kit_id, cursor);
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('log_position', 0), ('change_cursor', 0);
";

const V1_POSTGRES: &str = r"
CREATE TABLE authorities (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    ars TEXT,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE authority_keys (
    key_id TEXT PRIMARY KEY,
    authority_id TEXT NOT NULL REFERENCES authorities(id),
    public_key BYTEA NOT NULL,
    sealed_secret BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
CREATE UNIQUE INDEX authority_keys_current ON authority_keys(authority_id) WHERE retired_at IS NULL;
CREATE TABLE server_keys (
    key_id TEXT PRIMARY KEY,
    public_key BYTEA NOT NULL,
    sealed_secret BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    current BOOLEAN NOT NULL
);
CREATE UNIQUE INDEX server_keys_current ON server_keys(current) WHERE current;
CREATE TABLE users (
    login TEXT PRIMARY KEY,
    authority_id TEXT NOT NULL REFERENCES authorities(id),
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE kits (
    kit_id TEXT PRIMARY KEY,
    authority_id TEXT NOT NULL REFERENCES authorities(id),
    name TEXT NOT NULL,
    reported_name TEXT,
    public_key BYTEA UNIQUE,
    status TEXT NOT NULL,
    revoked_reason TEXT,
    code_hash BYTEA NOT NULL UNIQUE,
    code_expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    enrolled_at BIGINT,
    last_seen_at BIGINT,
    head_seq BIGINT,
    head_hash BYTEA
);
CREATE TABLE nonces (
    kit_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (kit_id, nonce)
);
CREATE INDEX nonces_seen_at ON nonces(seen_at);
CREATE TABLE records (
    kit_id TEXT NOT NULL REFERENCES kits(kit_id),
    seq BIGINT NOT NULL,
    record_id TEXT NOT NULL UNIQUE,
    hash BYTEA NOT NULL,
    envelope BYTEA NOT NULL,
    outcome TEXT NOT NULL,
    problem TEXT,
    receipt BYTEA,
    log_position BIGINT UNIQUE,
    received_at BIGINT NOT NULL,
    authority_id TEXT NOT NULL,
    form_id TEXT NOT NULL,
    form_version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    ref_record_id TEXT,
    PRIMARY KEY (kit_id, seq)
);
CREATE TABLE cases (
    record_id TEXT PRIMARY KEY REFERENCES records(record_id),
    authority_id TEXT NOT NULL REFERENCES authorities(id),
    status TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX cases_inbox ON cases(authority_id, status);
CREATE TABLE case_events (
    id BIGSERIAL PRIMARY KEY,
    record_id TEXT NOT NULL REFERENCES cases(record_id),
    status TEXT NOT NULL,
    comment TEXT,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE TABLE fork_evidence (
    hash BYTEA PRIMARY KEY,
    kit_id TEXT NOT NULL REFERENCES kits(kit_id),
    seq BIGINT NOT NULL,
    record_id TEXT NOT NULL,
    envelope BYTEA NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE TABLE attachments (
    attachment_id TEXT PRIMARY KEY,
    ciphertext_size BIGINT NOT NULL,
    ciphertext_sha256 BYTEA NOT NULL,
    created BOOLEAN NOT NULL,
    upload_offset BIGINT NOT NULL,
    complete BOOLEAN NOT NULL,
    completed_at BIGINT
);
CREATE TABLE record_attachments (
    record_id TEXT NOT NULL REFERENCES records(record_id),
    attachment_id TEXT NOT NULL REFERENCES attachments(attachment_id),
    position BIGINT NOT NULL,
    PRIMARY KEY (record_id, attachment_id)
);
CREATE INDEX record_attachments_by_attachment ON record_attachments(attachment_id);
CREATE TABLE catalogs (
    version TEXT PRIMARY KEY,
    envelope BYTEA NOT NULL,
    etag TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    current BOOLEAN NOT NULL
);
CREATE UNIQUE INDEX catalogs_current ON catalogs(current) WHERE current;
CREATE TABLE changes (
    cursor BIGINT PRIMARY KEY,
    kit_id TEXT,
    at BIGINT NOT NULL,
    change TEXT NOT NULL
);
CREATE INDEX changes_by_kit ON changes(kit_id, cursor);
CREATE SEQUENCE log_position_seq MAXVALUE 9007199254740991;
CREATE SEQUENCE change_cursor_seq MAXVALUE 9007199254740991;
";

// Version 2 (back office). `cases` gets copies of the record's kit, form and
// `received_at`, so that the inbox filters and pages on one table with an index that
// starts with the authority: keyset pagination by `(received_at, record_id)` stays fast
// at millions of cases. Sessions store only SHA-256 of the token. `decryption_log` and
// `case_events` are append-only, enforced by the database.
const V2_SQLITE: &str = r"
ALTER TABLE cases ADD COLUMN kit_id TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN form_id TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN received_at BIGINT NOT NULL DEFAULT 0;
UPDATE cases SET
    kit_id = (SELECT r.kit_id FROM records r WHERE r.record_id = cases.record_id),
    form_id = (SELECT r.form_id FROM records r WHERE r.record_id = cases.record_id),
    received_at = (SELECT r.received_at FROM records r WHERE r.record_id = cases.record_id);
CREATE INDEX cases_inbox_page ON cases(authority_id, received_at, record_id);
CREATE INDEX cases_inbox_status_page ON cases(authority_id, status, received_at, record_id);
CREATE INDEX case_events_by_record ON case_events(record_id, id);
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    login TEXT NOT NULL REFERENCES users(login),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions(expires_at);
CREATE TABLE login_failures (
    login TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL
);
CREATE TABLE decryption_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL REFERENCES cases(record_id),
    authority_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    purpose TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX decryption_log_by_record ON decryption_log(record_id, id);
CREATE TRIGGER decryption_log_no_update BEFORE UPDATE ON decryption_log
BEGIN SELECT RAISE(ABORT, 'decryption_log is append-only'); END;
CREATE TRIGGER decryption_log_no_delete BEFORE DELETE ON decryption_log
BEGIN SELECT RAISE(ABORT, 'decryption_log is append-only'); END;
CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events
BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;
CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events
BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;
";

const V2_POSTGRES: &str = r"
ALTER TABLE cases ADD COLUMN kit_id TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN form_id TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN received_at BIGINT NOT NULL DEFAULT 0;
UPDATE cases SET kit_id = r.kit_id, form_id = r.form_id, received_at = r.received_at
    FROM records r WHERE r.record_id = cases.record_id;
CREATE INDEX cases_inbox_page ON cases(authority_id, received_at, record_id);
CREATE INDEX cases_inbox_status_page ON cases(authority_id, status, received_at, record_id);
CREATE INDEX case_events_by_record ON case_events(record_id, id);
CREATE TABLE sessions (
    token_hash BYTEA PRIMARY KEY,
    login TEXT NOT NULL REFERENCES users(login),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions(expires_at);
CREATE TABLE login_failures (
    login TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL
);
CREATE TABLE decryption_log (
    id BIGSERIAL PRIMARY KEY,
    record_id TEXT NOT NULL REFERENCES cases(record_id),
    authority_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    purpose TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX decryption_log_by_record ON decryption_log(record_id, id);
CREATE FUNCTION fieldkit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$;
CREATE TRIGGER decryption_log_append_only BEFORE UPDATE OR DELETE ON decryption_log
    FOR EACH ROW EXECUTE FUNCTION fieldkit_append_only();
CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION fieldkit_append_only();
";

/// Applies every migration newer than the database, one transaction each, in the
/// dialect's text. Re-reads the version inside each transaction (after the migration
/// lock), so two processes starting together do not apply a migration twice.
///
/// # Errors
/// [`StoreError::Migration`], also for a database newer than this build.
pub async fn migrate(db: &super::sql::Db) -> Result<(), super::StoreError> {
    use super::sql::{col, finish, Dialect};
    use super::StoreError;
    let merr = |e: sqlx::Error| StoreError::Migration(e.to_string());
    // A constant text of this module.
    sqlx::raw_sql(sqlx::AssertSqlSafe(SCHEMA_TABLE))
        .execute(&db.pool)
        .await
        .map_err(merr)?;
    loop {
        let mut tx = db.begin().await?;
        let result: Result<Option<&Migration>, StoreError> = async {
            if let Some(lock) = db.dialect.lock_migrations() {
                sqlx::query(lock).execute(&mut *tx).await.map_err(merr)?;
            }
            let row = sqlx::query(
                "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM schema_migrations",
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(merr)?;
            let current: i64 = col(&row, 0)?;
            if current > latest() {
                return Err(StoreError::Migration(format!(
                    "the database has schema version {current}, newer than this build ({})",
                    latest()
                )));
            }
            let Some(next) = MIGRATIONS.iter().find(|m| m.version > current) else {
                return Ok(None);
            };
            let text = match db.dialect {
                Dialect::Sqlite => next.sqlite,
                Dialect::Postgres => next.postgres,
            };
            // The migration texts are constants of this module.
            sqlx::raw_sql(sqlx::AssertSqlSafe(text))
                .execute(&mut *tx)
                .await
                .map_err(merr)?;
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(next.version)
            .bind(next.name)
            .bind(chrono::Utc::now().timestamp_millis())
            .execute(&mut *tx)
            .await
            .map_err(merr)?;
            Ok(Some(next))
        }
        .await;
        match finish(tx, result).await? {
            None => return Ok(()),
            Some(m) => tracing::info!(version = m.version, name = m.name, "migration applied"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_increase_from_one_without_holes() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
        }
    }

    #[test]
    fn both_dialects_create_the_same_tables() {
        let tables = |sql: &str| {
            let mut t: Vec<String> = sql
                .split("CREATE TABLE ")
                .skip(1)
                .filter_map(|s| s.split_whitespace().next().map(str::to_owned))
                .filter(|t| t != "counters")
                .collect();
            t.sort();
            t
        };
        for m in MIGRATIONS {
            assert_eq!(tables(m.sqlite), tables(m.postgres), "{}", m.name);
        }
    }
}
