-- Version 12 (kit lifecycle: a blocked queue seen at the backend). A kit reports with its
-- outbox where and why its queue stopped at a record (PROTOCOL.md §6.5 `blocked`): after
-- a restore from an old backup this is how IT staff learn which kits cannot heal. NULL:
-- not blocked, or a kit that does not report it.
ALTER TABLE kits ADD COLUMN blocked_reason TEXT;
ALTER TABLE kits ADD COLUMN blocked_seq BIGINT;
ALTER TABLE kits ADD COLUMN blocked_since BIGINT;
