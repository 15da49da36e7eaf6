-- Version 1 (initial schema). `{bytes}` and `{serial_key}` are spelled per dialect
-- (storage::sql::Dialect::spell_types).
CREATE TABLE authorities (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    ars TEXT,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE authority_keys (
    key_id TEXT PRIMARY KEY,
    authority_id TEXT NOT NULL REFERENCES authorities(id),
    public_key {bytes} NOT NULL,
    sealed_secret {bytes} NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
CREATE UNIQUE INDEX authority_keys_current ON authority_keys(authority_id) WHERE retired_at IS NULL;
CREATE TABLE server_keys (
    key_id TEXT PRIMARY KEY,
    public_key {bytes} NOT NULL,
    sealed_secret {bytes} NOT NULL,
    created_at BIGINT NOT NULL,
    current BOOLEAN NOT NULL
);
CREATE UNIQUE INDEX server_keys_current ON server_keys(current) WHERE current;
CREATE TABLE users (
    login TEXT PRIMARY KEY,
    authority_id TEXT NOT NULL REFERENCES authorities(id),
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE kits (
    kit_id TEXT PRIMARY KEY,
    authority_id TEXT NOT NULL REFERENCES authorities(id),
    name TEXT NOT NULL,
    reported_name TEXT,
    public_key {bytes} UNIQUE,
    status TEXT NOT NULL,
    revoked_reason TEXT,
    code_hash {bytes} NOT NULL UNIQUE,
    code_expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    enrolled_at BIGINT,
    last_seen_at BIGINT,
    head_seq BIGINT,
    head_hash {bytes}
);
CREATE TABLE nonces (
    kit_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (kit_id, nonce)
);
CREATE INDEX nonces_seen_at ON nonces(seen_at);
CREATE TABLE records (
    kit_id TEXT NOT NULL REFERENCES kits(kit_id),
    seq BIGINT NOT NULL,
    record_id TEXT NOT NULL UNIQUE,
    hash {bytes} NOT NULL,
    envelope {bytes} NOT NULL,
    outcome TEXT NOT NULL,
    problem TEXT,
    receipt {bytes},
    log_position BIGINT UNIQUE,
    received_at BIGINT NOT NULL,
    authority_id TEXT NOT NULL,
    form_id TEXT NOT NULL,
    form_version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    ref_record_id TEXT,
    PRIMARY KEY (kit_id, seq)
);
CREATE TABLE cases (
    record_id TEXT PRIMARY KEY REFERENCES records(record_id),
    authority_id TEXT NOT NULL REFERENCES authorities(id),
    status TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX cases_inbox ON cases(authority_id, status);
CREATE TABLE case_events (
    id {serial_key},
    record_id TEXT NOT NULL REFERENCES cases(record_id),
    status TEXT NOT NULL,
    comment TEXT,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE TABLE fork_evidence (
    hash {bytes} PRIMARY KEY,
    kit_id TEXT NOT NULL REFERENCES kits(kit_id),
    seq BIGINT NOT NULL,
    record_id TEXT NOT NULL,
    envelope {bytes} NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE TABLE attachments (
    attachment_id TEXT PRIMARY KEY,
    ciphertext_size BIGINT NOT NULL,
    ciphertext_sha256 {bytes} NOT NULL,
    created BOOLEAN NOT NULL,
    upload_offset BIGINT NOT NULL,
    complete BOOLEAN NOT NULL,
    completed_at BIGINT
);
CREATE TABLE record_attachments (
    record_id TEXT NOT NULL REFERENCES records(record_id),
    attachment_id TEXT NOT NULL REFERENCES attachments(attachment_id),
    position BIGINT NOT NULL,
    PRIMARY KEY (record_id, attachment_id)
);
CREATE INDEX record_attachments_by_attachment ON record_attachments(attachment_id);
CREATE TABLE catalogs (
    version TEXT PRIMARY KEY,
    envelope {bytes} NOT NULL,
    etag TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    current BOOLEAN NOT NULL
);
CREATE UNIQUE INDEX catalogs_current ON catalogs(current) WHERE current;
CREATE TABLE changes (
    cursor BIGINT PRIMARY KEY,
    kit_id TEXT,
    at BIGINT NOT NULL,
    change TEXT NOT NULL
);
CREATE INDEX changes_by_kit ON changes(kit_id, cursor);
