-- Version 7 (back office: no all-powerful admin).
-- `must_change_password`: the password was set by someone else (an admin, the CLI);
-- it only lets its user set their own. `four_eyes`: the authority wants a second
-- admin to confirm new users who can read cases (or grant that) and role changes;
-- those wait in `pending_user_changes` (one per login) until another admin of the
-- authority confirms or either side withdraws them.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE authorities ADD COLUMN four_eyes BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE pending_user_changes (
    id {serial_key},
    authority_id TEXT NOT NULL REFERENCES authorities(id),
    login TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT,
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL
);
CREATE INDEX pending_user_changes_by_authority ON pending_user_changes(authority_id, id);
