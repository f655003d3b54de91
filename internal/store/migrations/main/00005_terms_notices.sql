-- +goose Up
-- Terms (bruksvilkår, delingsvilkår) in versions, their acceptance by
-- organisations and by web users, objections to them (Rules AA-04, AA-24,
-- SK-02); notices (driftsmeldinger, Rules AA-15, AA-20, AA-23).

CREATE TABLE terms_versions (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    version        INTEGER NOT NULL,
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    published_at   BIGINT NOT NULL,
    effective_from BIGINT NOT NULL,
    published_by   TEXT NOT NULL,
    UNIQUE (kind, version)
);

-- An organisation's explicit acceptance. Without one, an organisation with
-- access that did not object has accepted a version from its effective_from
-- (Rule AA-24); that rule is computed, not stored.
CREATE TABLE terms_acceptances (
    consumer    TEXT NOT NULL,
    version_id  TEXT NOT NULL,
    accepted_at BIGINT NOT NULL,
    accepted_by TEXT NOT NULL,
    PRIMARY KEY (consumer, version_id)
);

-- A web user's acceptance of the terms, for the organisation they act for,
-- each time they accept (Rule AA-04: at every sign-in).
CREATE TABLE terms_user_acceptances (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    consumer    TEXT NOT NULL,
    version_id  TEXT NOT NULL,
    accepted_at BIGINT NOT NULL
);
CREATE INDEX terms_user_acceptances_user ON terms_user_acceptances (user_id, consumer, version_id, accepted_at);

-- status: pending, met, rejected. A rejected objection ended the consumer's access.
CREATE TABLE terms_objections (
    id          TEXT PRIMARY KEY,
    consumer    TEXT NOT NULL,
    version_id  TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    status      TEXT NOT NULL,
    resolved_at BIGINT,
    resolved_by TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX terms_objections_status ON terms_objections (status, created_at);
CREATE INDEX terms_objections_consumer ON terms_objections (consumer, version_id);

-- starts_at, ends_at: planned downtime. api_prefix, sunset_at: a normal
-- change's old API version and when it goes.
CREATE TABLE notices (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    published_by TEXT NOT NULL,
    starts_at    BIGINT,
    ends_at      BIGINT,
    api_prefix   TEXT NOT NULL DEFAULT '',
    sunset_at    BIGINT
);
CREATE INDEX notices_published ON notices (published_at);
CREATE INDEX notices_sunset ON notices (kind, sunset_at);

-- +goose Down
DROP TABLE notices;
DROP TABLE terms_objections;
DROP TABLE terms_user_acceptances;
DROP TABLE terms_acceptances;
DROP TABLE terms_versions;
