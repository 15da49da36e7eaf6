-- Version 2 (back office). `cases` gets copies of the record's kit, form and
-- `received_at`, so that the inbox filters and pages on one table with an index that
-- starts with the authority: keyset pagination by `(received_at, record_id)` stays fast
-- at millions of cases. Sessions store only SHA-256 of the token. `decryption_log` and
-- `case_events` are append-only, enforced by the database.
ALTER TABLE cases ADD COLUMN kit_id TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN form_id TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN received_at BIGINT NOT NULL DEFAULT 0;
UPDATE cases SET kit_id = r.kit_id, form_id = r.form_id, received_at = r.received_at
    FROM records r WHERE r.record_id = cases.record_id;
CREATE INDEX cases_inbox_page ON cases(authority_id, received_at, record_id);
CREATE INDEX cases_inbox_status_page ON cases(authority_id, status, received_at, record_id);
CREATE INDEX case_events_by_record ON case_events(record_id, id);
CREATE TABLE sessions (
    token_hash {bytes} PRIMARY KEY,
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
    id {serial_key},
    record_id TEXT NOT NULL REFERENCES cases(record_id),
    authority_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    purpose TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX decryption_log_by_record ON decryption_log(record_id, id);
