-- Version 8, PostgreSQL part: `chain_bridges` refuses UPDATE and DELETE.
CREATE TRIGGER chain_bridges_append_only BEFORE UPDATE OR DELETE ON chain_bridges
    FOR EACH ROW EXECUTE FUNCTION fieldkit_append_only();
