-- Version 4 (back office: IT administration and the audit viewer).
-- `admin_events` is the trail of administrative actions (kits provisioned, revoked and
-- released; users added and disabled; authorities added and their keys rotated;
-- catalogs published), whether done in the back office or with the admin CLI. Like
-- `case_events` and `decryption_log` it is append-only, enforced by the database.
-- `authority_id` names whose trail an event belongs to; NULL for events of the whole
-- installation (a catalog publication). The indexes serve the audit viewer, which
-- reads an authority's trail newest first.
CREATE TABLE admin_events (
    id {serial_key},
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    authority_id TEXT,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX admin_events_by_authority ON admin_events(authority_id, at, id);
CREATE INDEX decryption_log_by_authority ON decryption_log(authority_id, at, id);
CREATE INDEX case_events_by_time ON case_events(at, id);
