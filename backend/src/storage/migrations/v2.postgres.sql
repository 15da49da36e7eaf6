-- Version 2, PostgreSQL part: `decryption_log` and `case_events` refuse UPDATE and
-- DELETE (one trigger function, reused by later versions).
CREATE FUNCTION fieldkit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$;
CREATE TRIGGER decryption_log_append_only BEFORE UPDATE OR DELETE ON decryption_log
    FOR EACH ROW EXECUTE FUNCTION fieldkit_append_only();
CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION fieldkit_append_only();
