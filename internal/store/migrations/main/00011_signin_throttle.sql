-- +goose Up
-- Sign-in throttling (issue 11, item 11): failed password attempts counted per
-- (account, source address) and per source address, and per minute for all
-- sources together; governance.Throttle decides how long an attempt waits.
-- Kept here, not in memory, so that every node and a restarted node see the
-- same counts. Keys are SHA-256 hashes: no address or e-mail address is stored.
-- Rows are purged when older than the throttle's window.
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

-- +goose Down
DROP TABLE signin_failure_minutes;
DROP TABLE signin_failures;
