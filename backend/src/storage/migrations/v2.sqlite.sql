-- Version 2, SQLite part: `decryption_log` and `case_events` refuse UPDATE and DELETE.
CREATE TRIGGER decryption_log_no_update BEFORE UPDATE ON decryption_log
BEGIN SELECT RAISE(ABORT, 'decryption_log is append-only'); END;
CREATE TRIGGER decryption_log_no_delete BEFORE DELETE ON decryption_log
BEGIN SELECT RAISE(ABORT, 'decryption_log is append-only'); END;
CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events
BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;
CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events
BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;
