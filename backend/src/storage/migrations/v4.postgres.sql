-- Version 4 (back office: IT administration and the audit viewer); see
-- v4.sqlite.sql. The append-only trigger function comes from version 2.
CREATE TABLE admin_events (
    id BIGSERIAL PRIMARY KEY,
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
CREATE TRIGGER admin_events_append_only BEFORE UPDATE OR DELETE ON admin_events
    FOR EACH ROW EXECUTE FUNCTION fieldkit_append_only();
