-- Version 3 (back office: assignment, clerk filter, counts, exports).
-- `cases.clerk_id` copies the record's (signed, unsealed) `clerk_id` at ingest; cases
-- received before this version keep '' because filling it would mean parsing stored
-- payloads outside the verify-then-parse path. `cases.assigned_to` is the reviewer
-- working the case; every assignment is a `case_events` row of kind 'assignment'.
-- `case_counts` keeps the number of cases per (authority, kit, clerk, status),
-- maintained by triggers, so the inbox's counts (unfiltered, or by kit and clerk) do not
-- scan an authority's cases; rows per kit keep concurrent batches of different kits
-- from contending on one counter.
-- Each inbox filter gets an index that starts with the authority and ends with the
-- keyset `(received_at, record_id)`; `cases_inbox` is a prefix of
-- `cases_inbox_status_page` and goes.
ALTER TABLE cases ADD COLUMN clerk_id TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN assigned_to TEXT REFERENCES users(login);
ALTER TABLE case_events ADD COLUMN kind TEXT NOT NULL DEFAULT 'status';
ALTER TABLE case_events ADD COLUMN assigned_to TEXT;
DROP INDEX cases_inbox;
CREATE INDEX cases_inbox_clerk_page ON cases(authority_id, clerk_id, received_at, record_id);
CREATE INDEX cases_inbox_assignee_page ON cases(authority_id, assigned_to, received_at, record_id);
CREATE INDEX cases_inbox_kit_page ON cases(authority_id, kit_id, received_at, record_id);
CREATE INDEX cases_inbox_form_page ON cases(authority_id, form_id, received_at, record_id);
CREATE TABLE case_counts (
    authority_id TEXT NOT NULL,
    kit_id TEXT NOT NULL,
    clerk_id TEXT NOT NULL,
    status TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (authority_id, kit_id, clerk_id, status)
);
CREATE INDEX case_counts_by_clerk ON case_counts(authority_id, clerk_id);
INSERT INTO case_counts (authority_id, kit_id, clerk_id, status, n)
    SELECT authority_id, kit_id, clerk_id, status, COUNT(*) FROM cases
    GROUP BY authority_id, kit_id, clerk_id, status;
