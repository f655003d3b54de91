-- +goose Up
-- Personal-data breaches (avvik, issue 12; Rules AV-01..AV-09, AA-21, DPA-07,
-- DPA-08). A case is one row: what changes as a whole (the report, the risk
-- assessment, the decision) is kept as JSON of internal/incident's types; what
-- accumulates (immediate measures, filings to Datatilsynet, the steps taken)
-- has a table each, every entry with its time and who. version guards a
-- case against two people changing it at once. ref_hash is the SHA-256 of the
-- reference a report from the public form follows it with (never the
-- reference itself); reminded_to is how far the deadline reminders have been
-- sent (incident.Breach.RemindersDue). Every change is also an event in the
-- lookup log (incident.changed), in the same transaction.
CREATE TABLE incidents (
    id             TEXT PRIMARY KEY,
    ref_hash       TEXT UNIQUE,
    status         TEXT NOT NULL,
    reporter_user  TEXT NOT NULL,
    reporter_org   TEXT NOT NULL,
    reported_at    BIGINT NOT NULL,
    aware_at       BIGINT,
    owner          TEXT NOT NULL DEFAULT '',
    report         TEXT NOT NULL,
    risk           TEXT,
    decision       TEXT,
    reminded_to    BIGINT NOT NULL DEFAULT 0,
    version        BIGINT NOT NULL DEFAULT 1,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX incidents_status ON incidents (status);
CREATE INDEX incidents_reporter ON incidents (reporter_org, reporter_user);
CREATE TABLE incident_measures (
    id       TEXT PRIMARY KEY,
    incident TEXT NOT NULL,
    at       BIGINT NOT NULL,
    body     TEXT NOT NULL
);
CREATE INDEX incident_measures_incident ON incident_measures (incident, at);
CREATE TABLE incident_filings (
    id       TEXT PRIMARY KEY,
    incident TEXT NOT NULL,
    phase    TEXT NOT NULL,
    at       BIGINT NOT NULL,
    body     TEXT NOT NULL
);
CREATE INDEX incident_filings_incident ON incident_filings (incident, at);
CREATE TABLE incident_history (
    id       TEXT PRIMARY KEY,
    incident TEXT NOT NULL,
    at       BIGINT NOT NULL,
    step     TEXT NOT NULL,
    status   TEXT NOT NULL,
    actor    TEXT NOT NULL,
    note     TEXT NOT NULL
);
CREATE INDEX incident_history_incident ON incident_history (incident, at);
-- The public report form's and the reference look-up's limits per source
-- address (a fixed window); keys are SHA-256 hashes, no address is stored.
CREATE TABLE incident_throttle (
    key   TEXT PRIMARY KEY,
    count BIGINT NOT NULL,
    since BIGINT NOT NULL
);

-- +goose Down
DROP TABLE incident_throttle;
DROP TABLE incident_history;
DROP TABLE incident_filings;
DROP TABLE incident_measures;
DROP TABLE incidents;
