-- Version 1, PostgreSQL part: log positions and feed cursors come from sequences
-- (no row lock shared by parallel batches); capped at 2^53 − 1 like every stored integer.
CREATE SEQUENCE log_position_seq MAXVALUE 9007199254740991;
CREATE SEQUENCE change_cursor_seq MAXVALUE 9007199254740991;
