-- Version 1, SQLite part: log positions and feed cursors count in a table (no sequences).
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('log_position', 0), ('change_cursor', 0);
