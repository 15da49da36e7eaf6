-- Version 4, PostgreSQL part: `admin_events` refuses UPDATE and DELETE (the trigger
-- function is version 2's).
CREATE TRIGGER admin_events_append_only BEFORE UPDATE OR DELETE ON admin_events
    FOR EACH ROW EXECUTE FUNCTION fieldkit_append_only();
