-- Version 9 (ingest): PostgreSQL keeps `case_counts` per INSERT statement from now on
-- (see v9.postgres.sql). SQLite has no statement triggers and writes with one writer at
-- a time; its row trigger stays. The version exists so both databases count alike.
SELECT 1;
