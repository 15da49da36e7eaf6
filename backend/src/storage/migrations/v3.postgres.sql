-- Version 3, PostgreSQL part: the trigger that keeps `case_counts`.
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
