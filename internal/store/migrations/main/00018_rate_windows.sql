-- +goose Up
-- Rate limits across a cluster (Rule AA-15, issue 15): how many of a
-- consumer's requests the nodes together have admitted in each one-second
-- window (Unix seconds). A node claims a few at a time and admits them from
-- memory, so the database sees a write per claim, not per request. Windows
-- older than a minute are purged.
CREATE TABLE rate_windows (
    consumer     TEXT   NOT NULL,
    window_start BIGINT NOT NULL,
    used         BIGINT NOT NULL,
    PRIMARY KEY (consumer, window_start)
);
CREATE INDEX rate_windows_start ON rate_windows (window_start);

-- +goose Down
DROP TABLE rate_windows;
