-- Version 6 (back office: login throttle per client address).
-- Login throttle per (login name, client address) plus one account-wide row per login
-- (client '*'), so an attacker at one address cannot lock out the account's owner
-- (login_throttle.rs). The old per-name counters are dropped: they only ever delay.
DROP TABLE login_failures;
CREATE TABLE login_failures (
    login TEXT NOT NULL,
    client TEXT NOT NULL,
    failures BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    PRIMARY KEY (login, client)
);
CREATE INDEX login_failures_last_failure_at ON login_failures(last_failure_at);
