-- +goose Up
-- Living with access (Rules AA-25 to AA-27) and consent as legal basis (Rule SK-08).

-- A person's consent that a consumer may obtain their data for a purpose.
-- person_pid is the fødselsnummer: never shown in full, logged or put in an
-- event. The lookup API asks (person_pid, consumer) for a valid one.
CREATE TABLE consents (
    id           TEXT PRIMARY KEY,
    person_pid   TEXT NOT NULL,
    consumer     TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    given_at     BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    withdrawn_at BIGINT
);
CREATE INDEX consents_person ON consents (person_pid, consumer, expires_at);

-- When an organisation's administrators were last reminded of a due access
-- review (Rule AA-27): at most once per reminder interval.
CREATE TABLE review_reminders (
    org         TEXT PRIMARY KEY,
    reminded_at BIGINT NOT NULL
);

-- Single-use links that let a new portal user set a password. Only the
-- token's SHA-256 is kept.
CREATE TABLE activations (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX activations_user ON activations (user_id);

-- Each import of organisation status from Enhetsregisteret (Rule AA-26).
-- ceased and winding_up list orgnrs, comma-separated.
CREATE TABLE enhetsregisteret_runs (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    entries     BIGINT NOT NULL,
    ceased      TEXT NOT NULL DEFAULT '',
    winding_up  TEXT NOT NULL DEFAULT '',
    error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX enhetsregisteret_runs_started ON enhetsregisteret_runs (started_at);

-- +goose Down
DROP TABLE enhetsregisteret_runs;
DROP TABLE activations;
DROP TABLE review_reminders;
DROP TABLE consents;
