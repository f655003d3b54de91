-- +goose Up
-- Applications (søknad), their history, the decisions (vedtak) made on them,
-- and segments: standard sets of packages for consumers with the same need.

-- org: the applicant organisation, whose people alone see the application.
-- form: the fields the applicant fills in, as JSON (governance.ApplicationForm).
-- replaces: the approved application this one changes (Rule AA-05).
-- granted: the package refs a decision granted, comma-separated.
-- delegation_id: the delegation to the named data processor (Rule AA-13).
CREATE TABLE applications (
    id             TEXT PRIMARY KEY,
    org            TEXT NOT NULL,
    status         TEXT NOT NULL,
    replaces       TEXT NOT NULL DEFAULT '',
    form           TEXT NOT NULL,
    question       TEXT NOT NULL DEFAULT '',
    answer         TEXT NOT NULL DEFAULT '',
    reasons        TEXT NOT NULL DEFAULT '',
    granted        TEXT NOT NULL DEFAULT '',
    segment_id     TEXT NOT NULL DEFAULT '',
    valid_to       BIGINT,
    signed_by      TEXT NOT NULL DEFAULT '',
    signed_by_name TEXT NOT NULL DEFAULT '',
    signed_at      BIGINT,
    case_worker    TEXT NOT NULL DEFAULT '',
    delegation_id  TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX applications_org ON applications (org, created_at);
CREATE INDEX applications_status ON applications (status, updated_at);
CREATE INDEX applications_replaces ON applications (replaces);

-- Every step of an application: who, when, what (shown to the applicant and the case worker).
CREATE TABLE application_history (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL,
    at             BIGINT NOT NULL,
    actor          TEXT NOT NULL,
    actor_name     TEXT NOT NULL,
    step           TEXT NOT NULL,
    from_status    TEXT NOT NULL,
    to_status      TEXT NOT NULL,
    note           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX application_history_app ON application_history (application_id, at);

-- A decision document: frozen text; its SHA-256 is also in the log's event.
CREATE TABLE decisions (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL,
    org            TEXT NOT NULL,
    kind           TEXT NOT NULL,
    text           TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX decisions_app ON decisions (application_id, created_at);

-- Rule SK-06: consumers with the same need share one standard package.
CREATE TABLE segments (
    id          TEXT PRIMARY KEY,
    navn        TEXT NOT NULL UNIQUE,
    beskrivelse TEXT NOT NULL DEFAULT '',
    packages    TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- +goose Down
DROP TABLE segments;
DROP TABLE decisions;
DROP TABLE application_history;
DROP TABLE applications;
