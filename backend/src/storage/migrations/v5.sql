-- Version 5 (kit lifecycle: case flags, revocation that drains, forwarding).
-- `case_flags` holds what a reviewer must see about how a case arrived (PROTOCOL.md
-- §6.3 "Flags"): `revoked-kit`, `held`, `needs-routing`, `outside-policy`, each with
-- its reason. A flag is resolved (forwarded, refused, released) by a named person; the
-- resolution is also a `case_events` entry of kind 'flag', so the history shows it.
-- `kits.revocation_mode` is how a kit was revoked: 'drain' and 'stolen' keep the kit
-- in status 'draining' (it may still push what it finalized) until it reports an empty
-- outbox, 'wipe-now' (and every revocation before this version, NULL) wipes at once.
-- `revoked_head_seq` is the head at revocation, `revoked_by` the operator, and
-- `outbox_reported`/`outbox_reported_at` the kit's last report of undelivered records.
-- Forwarding moves a case to another authority: a trigger keeps `case_counts` right.
CREATE TABLE case_flags (
    record_id TEXT NOT NULL REFERENCES cases(record_id),
    flag TEXT NOT NULL,
    reason TEXT NOT NULL,
    raised_at BIGINT NOT NULL,
    resolved_at BIGINT,
    resolved_by TEXT,
    resolution TEXT,
    PRIMARY KEY (record_id, flag)
);
CREATE INDEX case_flags_open ON case_flags(resolved_at, record_id);
ALTER TABLE kits ADD COLUMN revocation_mode TEXT;
ALTER TABLE kits ADD COLUMN revoked_by TEXT;
ALTER TABLE kits ADD COLUMN revoked_head_seq BIGINT;
ALTER TABLE kits ADD COLUMN outbox_reported BIGINT;
ALTER TABLE kits ADD COLUMN outbox_reported_at BIGINT;
