-- +goose Up
-- The portal's people: accounts, what they may do for which organisation,
-- their sessions; the consumers' contact persons; e-mail waiting to be sent.

-- pid: the fødselsnummer of a person who signs in as a data subject (never
-- shown, never logged). disabled_at: a removed account signs in no more.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    navn          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    pid           TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);

-- A role a user holds for an organisation: the register authority's staff hold
-- theirs for org 'register'; a person (data subject) holds 'person' for org ''.
-- reviewed_at: when the organisation last confirmed the user still needs it (Rule AA-27).
CREATE TABLE memberships (
    user_id     TEXT NOT NULL,
    org         TEXT NOT NULL,
    role        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    reviewed_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, org, role)
);
CREATE INDEX memberships_org ON memberships (org, role);

-- scs sessions: the token is the cookie's value, data the encoded session.
CREATE TABLE sessions (
    token  TEXT PRIMARY KEY,
    data   BYTEA NOT NULL,
    expiry BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expiry);

-- A consumer's contact persons, kept current by the consumer (Rule AA-06).
-- varsler: subscribes to news and operational notices (Rule AA-20).
CREATE TABLE contacts (
    id         TEXT PRIMARY KEY,
    consumer   TEXT NOT NULL,
    navn       TEXT NOT NULL,
    epost      TEXT NOT NULL,
    telefon    TEXT NOT NULL DEFAULT '',
    rolle      TEXT NOT NULL,
    varsler    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX contacts_consumer ON contacts (consumer);

-- E-mail to send; a sender job delivers and marks it. consumer: the
-- organisation the letter concerns, shown in its portal as a written notice.
CREATE TABLE mail_outbox (
    id         TEXT PRIMARY KEY,
    consumer   TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL,
    to_addr    TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at    BIGINT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX mail_outbox_pending ON mail_outbox (sent_at, created_at);
CREATE INDEX mail_outbox_consumer ON mail_outbox (consumer, created_at);

-- A grant resting on the data subjects' consent (Rule SK-08), and the
-- application it was decided on.
ALTER TABLE grants ADD COLUMN consent BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE grants ADD COLUMN application_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE grants DROP COLUMN application_id;
ALTER TABLE grants DROP COLUMN consent;
DROP TABLE mail_outbox;
DROP TABLE contacts;
DROP TABLE sessions;
DROP TABLE memberships;
DROP TABLE users;
