-- Version 3: see v3.sqlite.sql; the same schema in PostgreSQL's dialect.
ALTER TABLE cases ADD COLUMN clerk_id TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN assigned_to TEXT REFERENCES users(login);
ALTER TABLE case_events ADD COLUMN kind TEXT NOT NULL DEFAULT 'status';
ALTER TABLE case_events ADD COLUMN assigned_to TEXT;
DROP INDEX cases_inbox;
CREATE INDEX cases_inbox_clerk_page ON cases(authority_id, clerk_id, received_at, record_id);
CREATE INDEX cases_inbox_assignee_page ON cases(authority_id, assigned_to, received_at, record_id);
CREATE INDEX cases_inbox_kit_page ON cases(authority_id, kit_id, received_at, record_id);
CREATE INDEX cases_inbox_form_page ON cases(authority_id, form_id, received_at, record_id);
CREATE TABLE case_counts (
    authority_id TEXT NOT NULL,
    kit_id TEXT NOT NULL,
    clerk_id TEXT NOT NULL,
    status TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (authority_id, kit_id, clerk_id, status)
);
CREATE INDEX case_counts_by_clerk ON case_counts(authority_id, clerk_id);
INSERT INTO case_counts (authority_id, kit_id, clerk_id, status, n)
    SELECT authority_id, kit_id, clerk_id, status, COUNT(*) FROM cases
    GROUP BY authority_id, kit_id, clerk_id, status;
CREATE FUNCTION fieldkit_case_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.status = NEW.status THEN
            RETURN NULL;
        END IF;
        UPDATE case_counts SET n = n - 1
            WHERE authority_id = OLD.authority_id AND kit_id = OLD.kit_id
              AND clerk_id = OLD.clerk_id AND status = OLD.status;
    END IF;
    INSERT INTO case_counts (authority_id, kit_id, clerk_id, status, n)
        VALUES (NEW.authority_id, NEW.kit_id, NEW.clerk_id, NEW.status, 1)
        ON CONFLICT (authority_id, kit_id, clerk_id, status) DO UPDATE SET n = case_counts.n + 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER case_counts_maintained AFTER INSERT OR UPDATE OF status ON cases
    FOR EACH ROW EXECUTE FUNCTION fieldkit_case_counts();
