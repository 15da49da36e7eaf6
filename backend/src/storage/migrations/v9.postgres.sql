-- Version 9 (ingest): `case_counts` is kept per INSERT statement, not per row. A batch
-- writes its cases with one multi-row INSERT (storage::batch::pending); with the row
-- trigger, each of its up to 100 cases updated the same counter row once — 100 row
-- versions of one row per batch, each update walking the versions before it. The
-- statement trigger adds each group's count once. Status changes (one case at a time,
-- by reviewers) keep the row trigger.
DROP TRIGGER case_counts_maintained ON cases;
CREATE TRIGGER case_counts_maintained AFTER UPDATE OF status ON cases
    FOR EACH ROW EXECUTE FUNCTION fieldkit_case_counts();
CREATE FUNCTION fieldkit_case_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO case_counts (authority_id, kit_id, clerk_id, status, n)
        SELECT authority_id, kit_id, clerk_id, status, COUNT(*) FROM inserted_cases
        GROUP BY authority_id, kit_id, clerk_id, status
        ON CONFLICT (authority_id, kit_id, clerk_id, status)
        DO UPDATE SET n = case_counts.n + EXCLUDED.n;
    RETURN NULL;
END
$$;
CREATE TRIGGER case_counts_inserted AFTER INSERT ON cases
    REFERENCING NEW TABLE AS inserted_cases
    FOR EACH STATEMENT EXECUTE FUNCTION fieldkit_case_counts_inserted();
