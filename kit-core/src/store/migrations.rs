//! Versioned schema migrations, tracked in `PRAGMA user_version`. Each step runs in its
//! own transaction; a store written by a newer program is refused, never downgraded.
//! Steps are append-only: a released step is never edited.

use rusqlite::Connection;

use crate::KitError;

/// The schema steps, in order; step *n* brings the store to version *n*.
const STEPS: &[&str] = &[
    // 1: kit identity, clerks, catalogs, drafts, the record log and its attachments.
    r"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE kit_key (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        secret     BLOB NOT NULL,
        public     BLOB NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE clerks (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT
    );
    CREATE TABLE catalogs (
        version      TEXT PRIMARY KEY,
        envelope     TEXT NOT NULL,
        installed_at TEXT NOT NULL
    );
    CREATE TABLE drafts (
        id           TEXT PRIMARY KEY,
        service_id   TEXT NOT NULL,
        kind         TEXT NOT NULL CHECK (kind IN ('application', 'correction', 'withdrawal')),
        references_record TEXT,
        data         TEXT NOT NULL,
        clerk_id     TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
    );
    CREATE TABLE draft_attachments (
        id                TEXT PRIMARY KEY,
        draft_id          TEXT NOT NULL REFERENCES drafts(id) ON DELETE CASCADE,
        spec_id           TEXT NOT NULL,
        purpose           TEXT NOT NULL,
        media_type        TEXT NOT NULL,
        size              INTEGER NOT NULL,
        sha256            TEXT NOT NULL,
        ciphertext_size   INTEGER NOT NULL,
        ciphertext_sha256 TEXT NOT NULL,
        secret            BLOB NOT NULL,
        created_at        TEXT NOT NULL
    );
    CREATE INDEX draft_attachments_by_draft ON draft_attachments(draft_id);
    CREATE TABLE records (
        seq               INTEGER PRIMARY KEY,
        record_id         TEXT NOT NULL UNIQUE,
        hash              TEXT NOT NULL,
        prev_hash         TEXT NOT NULL,
        envelope          TEXT,
        service_id        TEXT NOT NULL,
        form_version      INTEGER NOT NULL,
        authority_id      TEXT NOT NULL,
        leika             TEXT NOT NULL,
        ars               TEXT NOT NULL,
        kind              TEXT NOT NULL,
        references_record TEXT,
        case_number       TEXT NOT NULL UNIQUE,
        verification_code TEXT NOT NULL,
        visit_date        TEXT NOT NULL,
        clerk_id          TEXT NOT NULL,
        finalized_at      TEXT NOT NULL,
        state             TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'complete', 'rejected', 'purged')),
        receipt           TEXT,
        received_at       TEXT,
        delivered_at      TEXT,
        completed_at      TEXT,
        rejection         TEXT,
        case_status       TEXT,
        case_comment      TEXT
    );
    CREATE INDEX records_pending ON records(seq) WHERE state = 'pending';
    CREATE INDEX records_by_state ON records(state, seq);
    CREATE TABLE record_attachments (
        attachment_id     TEXT PRIMARY KEY,
        record_seq        INTEGER NOT NULL REFERENCES records(seq),
        spec_id           TEXT NOT NULL,
        purpose           TEXT NOT NULL,
        media_type        TEXT NOT NULL,
        size              INTEGER NOT NULL,
        ciphertext_size   INTEGER NOT NULL,
        ciphertext_sha256 TEXT NOT NULL,
        uploaded          INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX record_attachments_not_uploaded ON record_attachments(record_seq) WHERE uploaded = 0;
    ",
    // 2: retention — purges leave a metadata-only log entry.
    r"
    CREATE TABLE purge_log (
        id            INTEGER PRIMARY KEY,
        record_id     TEXT NOT NULL,
        case_number   TEXT NOT NULL,
        service_id    TEXT NOT NULL,
        finalized_at  TEXT NOT NULL,
        completed_at  TEXT,
        purged_at     TEXT NOT NULL,
        attachments   INTEGER NOT NULL
    );
    CREATE INDEX records_complete ON records(completed_at) WHERE state = 'complete';
    ",
    r"
    CREATE TABLE case_updates (
        cursor      INTEGER PRIMARY KEY,
        record_id   TEXT NOT NULL,
        status      TEXT NOT NULL,
        comment     TEXT,
        at          TEXT NOT NULL
    );
    CREATE INDEX case_updates_by_record ON case_updates(record_id, cursor);
    ",
    // 4: what IT did with the recovery secret (e.g. exporting a blocked queue).
    r"
    CREATE TABLE it_log (
        id      INTEGER PRIMARY KEY,
        at      TEXT NOT NULL,
        action  TEXT NOT NULL,
        detail  TEXT NOT NULL
    );
    ",
    // 5: the name of an attached file as the clerk picked it (sealed into the case).
    r"
    ALTER TABLE draft_attachments ADD COLUMN file_name TEXT;
    ",
    // 6: for a signed printout (or the scan of one): the digest of the draft's data it
    // shows, so a change after signing asks for a new signature.
    r"
    ALTER TABLE draft_attachments ADD COLUMN printed_data_sha256 TEXT;
    ",
    // 7: whom a record is for ("Hildegard Schulze (+1)"), for the clerk's queue, history
    // and receipt; the data itself is sealed. Cleared when the record is purged.
    r"
    ALTER TABLE records ADD COLUMN display_label TEXT;
    ",
    // 8: drafts of answers to a Rückfrage (kind `supplement`). SQLite cannot change a
    // CHECK constraint in place, so both draft tables are rebuilt: the children first
    // into a new table referencing the new parent, then the old ones dropped (the child
    // before the parent, so no cascade deletes anything) and the new ones renamed (which
    // also renames the reference).
    r"
    CREATE TABLE drafts_v8 (
        id           TEXT PRIMARY KEY,
        service_id   TEXT NOT NULL,
        kind         TEXT NOT NULL
                     CHECK (kind IN ('application', 'correction', 'withdrawal', 'supplement')),
        references_record TEXT,
        data         TEXT NOT NULL,
        clerk_id     TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
    );
    INSERT INTO drafts_v8 (id, service_id, kind, references_record, data, clerk_id,
                           created_at, updated_at)
        SELECT id, service_id, kind, references_record, data, clerk_id, created_at, updated_at
        FROM drafts;
    CREATE TABLE draft_attachments_v8 (
        id                  TEXT PRIMARY KEY,
        draft_id            TEXT NOT NULL REFERENCES drafts_v8(id) ON DELETE CASCADE,
        spec_id             TEXT NOT NULL,
        purpose             TEXT NOT NULL,
        media_type          TEXT NOT NULL,
        size                INTEGER NOT NULL,
        sha256              TEXT NOT NULL,
        ciphertext_size     INTEGER NOT NULL,
        ciphertext_sha256   TEXT NOT NULL,
        secret              BLOB NOT NULL,
        created_at          TEXT NOT NULL,
        file_name           TEXT,
        printed_data_sha256 TEXT
    );
    INSERT INTO draft_attachments_v8 (id, draft_id, spec_id, purpose, media_type, size, sha256,
                                      ciphertext_size, ciphertext_sha256, secret, created_at,
                                      file_name, printed_data_sha256)
        SELECT id, draft_id, spec_id, purpose, media_type, size, sha256, ciphertext_size,
               ciphertext_sha256, secret, created_at, file_name, printed_data_sha256
        FROM draft_attachments;
    DROP TABLE draft_attachments;
    DROP TABLE drafts;
    ALTER TABLE drafts_v8 RENAME TO drafts;
    ALTER TABLE draft_attachments_v8 RENAME TO draft_attachments;
    CREATE INDEX draft_attachments_by_draft ON draft_attachments(draft_id);
    ",
];

/// The newest schema version this build knows.
pub const CURRENT: u32 = STEPS.len() as u32;

/// The store's schema version.
///
/// # Errors
/// Database errors.
pub fn version(conn: &Connection) -> Result<u32, KitError> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Brings the schema to `target` (at most [`CURRENT`]), one transaction per step.
///
/// # Errors
/// [`KitError::SchemaTooNew`] for a store from a newer program; database errors (the
/// failed step is rolled back, earlier steps stay).
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<(), KitError> {
    let found = version(conn)?;
    if found > CURRENT {
        return Err(KitError::SchemaTooNew {
            found,
            known: CURRENT,
        });
    }
    for step in found..target.min(CURRENT) {
        let tx = conn.transaction()?;
        tx.execute_batch(STEPS[step as usize])?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", step + 1))?;
        tx.commit()?;
    }
    Ok(())
}

/// Brings the schema to [`CURRENT`].
///
/// # Errors
/// As [`migrate_to`].
pub fn migrate(conn: &mut Connection) -> Result<(), KitError> {
    migrate_to(conn, CURRENT)
}

#[cfg(test)]
mod tests {
    use rusqlite::{params, Connection};

    use super::{migrate_to, CURRENT};

    /// Step 8 rebuilds both draft tables: every draft and attachment of a version-7 store
    /// survives with every column, the cascade still removes a draft's files, and the
    /// new kind is allowed while an unknown one is still refused.
    #[test]
    fn the_draft_tables_rebuild_keeps_every_draft_and_attachment() {
        let mut conn = Connection::open_in_memory().expect("db");
        conn.execute_batch("PRAGMA foreign_keys = ON;").expect("fk");
        migrate_to(&mut conn, 7).expect("version 7");
        conn.execute(
            "INSERT INTO drafts (id, service_id, kind, references_record, data, clerk_id,
                 created_at, updated_at)
             VALUES ('d1', 'anmeldung', 'correction', 'r0', '{\"a\":1}', 'c-clara', 't1', 't2')",
            [],
        )
        .expect("draft");
        for (id, printed) in [("a1", Some("abc")), ("a2", None)] {
            conn.execute(
                "INSERT INTO draft_attachments (id, draft_id, spec_id, purpose, media_type, size,
                     sha256, ciphertext_size, ciphertext_sha256, secret, created_at, file_name,
                     printed_data_sha256)
                 VALUES (?1, 'd1', 'signed-printout', 'form', 'application/pdf', 5, 'h', 21,
                     'ch', x'00', 't3', 'scan.pdf', ?2)",
                params![id, printed],
            )
            .expect("attachment");
        }
        migrate_to(&mut conn, CURRENT).expect("to the current version");

        let draft: (String, String, String, String) = conn
            .query_row(
                "SELECT kind, references_record, data, updated_at FROM drafts WHERE id = 'd1'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .expect("the draft survived");
        assert_eq!(
            draft,
            (
                "correction".into(),
                "r0".into(),
                "{\"a\":1}".into(),
                "t2".into()
            )
        );
        let files: Vec<(String, Option<String>, Option<String>)> = conn
            .prepare("SELECT id, file_name, printed_data_sha256 FROM draft_attachments ORDER BY id")
            .expect("select")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("files");
        assert_eq!(
            files,
            [
                ("a1".into(), Some("scan.pdf".into()), Some("abc".into())),
                ("a2".into(), Some("scan.pdf".into()), None)
            ]
        );
        conn.execute(
            "INSERT INTO drafts (id, service_id, kind, data, clerk_id, created_at, updated_at)
             VALUES ('d2', 'anmeldung', 'supplement', '{}', 'c', 't', 't')",
            [],
        )
        .expect("an answer's draft");
        assert!(conn
            .execute(
                "INSERT INTO drafts (id, service_id, kind, data, clerk_id, created_at, updated_at)
                 VALUES ('d3', 'anmeldung', 'guess', '{}', 'c', 't', 't')",
                [],
            )
            .is_err());
        conn.execute("DELETE FROM drafts WHERE id = 'd1'", [])
            .expect("discard");
        let left: i64 = conn
            .query_row("SELECT COUNT(*) FROM draft_attachments", [], |r| r.get(0))
            .expect("count");
        assert_eq!(left, 0, "a discarded draft takes its files along");
        let broken: i64 = conn
            .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .expect("fk check");
        assert_eq!(broken, 0);
    }
}
