-- Version 8, SQLite part: `chain_bridges` refuses UPDATE and DELETE.
CREATE TRIGGER chain_bridges_no_update BEFORE UPDATE ON chain_bridges
BEGIN SELECT RAISE(ABORT, 'chain_bridges is append-only'); END;
CREATE TRIGGER chain_bridges_no_delete BEFORE DELETE ON chain_bridges
BEGIN SELECT RAISE(ABORT, 'chain_bridges is append-only'); END;
