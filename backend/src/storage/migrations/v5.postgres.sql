-- Version 5, PostgreSQL part: forwarding a case keeps `case_counts` right.
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
