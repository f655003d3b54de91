-- +goose Up
-- Sign-in throttling (issue 11, item 11): attempts counted per (account,
-- source) or (account, device), per source network, per account and per
-- minute for all sources together, and the (account, source) pairs and
-- (account, device) pairs that signed in successfully before ("known");
-- governance.Throttle decides how long an attempt waits. Kept here, not in
-- memory, so that every node and a restarted node see the same counts. Keys
-- are SHA-256 hashes: no address, device id or e-mail address is stored.
-- Rows are purged when older than the throttle's window (known: KnownFor).
CREATE TABLE signin_failures (
    key     TEXT PRIMARY KEY,
    count   BIGINT NOT NULL,
    last_at BIGINT NOT NULL
);
CREATE INDEX signin_failures_last ON signin_failures (last_at);
CREATE TABLE signin_failure_minutes (
    minute BIGINT PRIMARY KEY,
    count  BIGINT NOT NULL
);
CREATE TABLE signin_known (
    key     TEXT PRIMARY KEY,
    last_at BIGINT NOT NULL
);
CREATE INDEX signin_known_last ON signin_known (last_at);

-- +goose Down
DROP TABLE signin_known;
DROP TABLE signin_failure_minutes;
DROP TABLE signin_failures;
