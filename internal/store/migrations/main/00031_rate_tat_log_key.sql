-- +goose Up
-- Rate limits across a cluster (Rule AA-15): a token bucket kept as each
-- consumer's theoretical arrival time (GCRA) in nanoseconds of the
-- database's clock, replacing the one-second windows whose sliding estimate
-- refused a consumer paced at exactly its limit.
CREATE TABLE rate_tat (
    consumer TEXT   PRIMARY KEY,
    tat      BIGINT NOT NULL
);
DROP TABLE rate_windows;

-- The lookup log's public note key, recorded on the first start, so that a
-- node started with another key (a missing copy of the key file makes a new
-- one) refuses to start instead of signing checkpoints nobody can verify.
ALTER TABLE log_state ADD COLUMN verifier_key TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE log_state DROP COLUMN verifier_key;
CREATE TABLE rate_windows (
    consumer     TEXT   NOT NULL,
    window_start BIGINT NOT NULL,
    used         BIGINT NOT NULL,
    PRIMARY KEY (consumer, window_start)
);
CREATE INDEX rate_windows_start ON rate_windows (window_start);
DROP TABLE rate_tat;
