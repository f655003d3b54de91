-- +goose Up
-- Data processing agreements (databehandleravtaler, issue 13; Rules SK-04,
-- DPA-01, DPA-05, DPA-06, DPA-09, DPA-10, DPA-11). internal/dpa decides what
-- may happen; these tables keep it. An agreement is one row with what it is
-- as a whole (its status, the stop order, the end, the deletion certificate,
-- as JSON of dpa's types); its versions are rows of their own, each with its
-- content (dpa.Content as JSON, what both sides sign) and the two signatures
-- over its SHA-256, and are never deleted (history kept). Sub-processor
-- proposals, authority requests and audit report files accumulate in a table
-- each; dpa_history is every step with who and the SHA-256 of what it
-- recorded, and each step is also an event in the lookup log
-- (dpa.changed), in the same transaction. reminded_to is how far the deletion
-- deadline's reminders are sent (dpa.Agreement.RemindersDue).
--
-- A delegation now names the agreement it rests on and what it delegates
-- (Rule SK-04). Delegations made before this migration keep agreement_id ''
-- and empty channels/packages: no agreement is invented for them. They stay
-- in force, listed for the register's case workers to resolve
-- (store.UncoveredDelegations), so that an upgrade does not cut production
-- off; every new delegation needs an active agreement covering it.
ALTER TABLE delegations ADD COLUMN agreement_id TEXT NOT NULL DEFAULT '';
ALTER TABLE delegations ADD COLUMN channels TEXT NOT NULL DEFAULT '';
ALTER TABLE delegations ADD COLUMN packages TEXT NOT NULL DEFAULT '';
CREATE INDEX delegations_agreement ON delegations (agreement_id);

CREATE TABLE dpa_agreements (
    id          TEXT PRIMARY KEY,
    controller  TEXT NOT NULL,
    processor   TEXT NOT NULL,
    status      TEXT NOT NULL,
    stop_order  TEXT,
    ending      TEXT,
    deletion    TEXT,
    reminded_to BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX dpa_agreements_controller ON dpa_agreements (controller, processor);
CREATE INDEX dpa_agreements_processor ON dpa_agreements (processor);
CREATE INDEX dpa_agreements_status ON dpa_agreements (status);
CREATE TABLE dpa_versions (
    agreement      TEXT NOT NULL,
    number         BIGINT NOT NULL,
    content        TEXT NOT NULL,
    status         TEXT NOT NULL,
    controller_sig TEXT,
    processor_sig  TEXT,
    in_force_at    BIGINT,
    note           TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (agreement, number)
);
CREATE TABLE dpa_subprocessors (
    id          TEXT PRIMARY KEY,
    agreement   TEXT NOT NULL,
    status      TEXT NOT NULL,
    body        TEXT NOT NULL,
    proposed_at BIGINT NOT NULL
);
CREATE INDEX dpa_subprocessors_agreement ON dpa_subprocessors (agreement, proposed_at);
CREATE TABLE dpa_requests (
    id          TEXT PRIMARY KEY,
    agreement   TEXT NOT NULL,
    body        TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX dpa_requests_agreement ON dpa_requests (agreement, recorded_at);
CREATE TABLE dpa_audit_reports (
    id          TEXT PRIMARY KEY,
    agreement   TEXT NOT NULL,
    title       TEXT NOT NULL,
    name        TEXT NOT NULL,
    type        TEXT NOT NULL,
    size        BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    data        BYTEA NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL
);
CREATE INDEX dpa_audit_reports_agreement ON dpa_audit_reports (agreement, uploaded_at);
CREATE TABLE dpa_history (
    id        TEXT PRIMARY KEY,
    agreement TEXT NOT NULL,
    at        BIGINT NOT NULL,
    step      TEXT NOT NULL,
    status    TEXT NOT NULL,
    actor     TEXT NOT NULL,
    name      TEXT NOT NULL,
    note      TEXT NOT NULL,
    sha256    TEXT NOT NULL
);
CREATE INDEX dpa_history_agreement ON dpa_history (agreement, at);

-- +goose Down
DROP TABLE dpa_history;
DROP TABLE dpa_audit_reports;
DROP TABLE dpa_requests;
DROP TABLE dpa_subprocessors;
DROP TABLE dpa_versions;
DROP TABLE dpa_agreements;
DROP INDEX delegations_agreement;
ALTER TABLE delegations DROP COLUMN packages;
ALTER TABLE delegations DROP COLUMN channels;
ALTER TABLE delegations DROP COLUMN agreement_id;
