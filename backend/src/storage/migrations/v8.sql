-- Version 8 (kit lifecycle: a blocked queue's way out, PROTOCOL.md §11).
-- A position of a kit's chain the backend holds no chainable record for (lost in a
-- restore and purged on the kit, refused and never chained, or refused at a resend
-- the kit holds a receipt for), bridged by IT staff from the kit's signed held-records
-- file: the chain goes on at `hash`. Kept as evidence with everything the file carried
-- (the sealed envelope for the back office, this backend's own receipt); append-only.
CREATE TABLE chain_bridges (
    kit_id TEXT NOT NULL REFERENCES kits(kit_id),
    seq BIGINT NOT NULL,
    record_id TEXT NOT NULL,
    hash {bytes} NOT NULL,
    reason TEXT NOT NULL,
    kit_state TEXT NOT NULL,
    envelope {bytes},
    receipt {bytes},
    statement_sha256 {bytes} NOT NULL,
    bridged_by TEXT NOT NULL,
    bridged_at BIGINT NOT NULL,
    PRIMARY KEY (kit_id, seq)
);
