-- +goose Up
-- Rate limits across a cluster (Rule AA-15): a token bucket kept as each
-- consumer's theoretical arrival time (GCRA) in nanoseconds of the
-- database's clock, replacing the one-second windows whose sliding estimate
-- refused a consumer paced at exactly its limit.
CREATE TABLE rate_tat (
    consumer TEXT   PRIMARY KEY,
    tat      BIGINT NOT NULL
);
-- rate_windows stays (unused from this version on) so that nodes still on
-- the previous version keep answering during a rolling upgrade; a later
-- migration drops it.

-- The lookup log's public note key, recorded on the first start, so that a
-- node started with another key (a missing copy of the key file makes a new
-- one) refuses to start instead of signing checkpoints nobody can verify.
ALTER TABLE log_state ADD COLUMN verifier_key TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE log_state DROP COLUMN verifier_key;
DROP TABLE rate_tat;
