-- Version 5 (kit lifecycle: case flags, revocation that drains, forwarding); see
-- v5.sqlite.sql for what each part is for.
CREATE TABLE case_flags (
    record_id TEXT NOT NULL REFERENCES cases(record_id),
    flag TEXT NOT NULL,
    reason TEXT NOT NULL,
    raised_at BIGINT NOT NULL,
    resolved_at BIGINT,
    resolved_by TEXT,
    resolution TEXT,
    PRIMARY KEY (record_id, flag)
);
CREATE INDEX case_flags_open ON case_flags(resolved_at, record_id);
ALTER TABLE kits ADD COLUMN revocation_mode TEXT;
ALTER TABLE kits ADD COLUMN revoked_by TEXT;
ALTER TABLE kits ADD COLUMN revoked_head_seq BIGINT;
ALTER TABLE kits ADD COLUMN outbox_reported BIGINT;
ALTER TABLE kits ADD COLUMN outbox_reported_at BIGINT;
CREATE FUNCTION fieldkit_case_counts_authority() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.authority_id = NEW.authority_id THEN
        RETURN NULL;
    END IF;
    UPDATE case_counts SET n = n - 1
        WHERE authority_id = OLD.authority_id AND kit_id = OLD.kit_id
          AND clerk_id = OLD.clerk_id AND status = OLD.status;
    INSERT INTO case_counts (authority_id, kit_id, clerk_id, status, n)
        VALUES (NEW.authority_id, NEW.kit_id, NEW.clerk_id, NEW.status, 1)
        ON CONFLICT (authority_id, kit_id, clerk_id, status) DO UPDATE SET n = case_counts.n + 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER case_counts_authority AFTER UPDATE OF authority_id ON cases
    FOR EACH ROW EXECUTE FUNCTION fieldkit_case_counts_authority();
