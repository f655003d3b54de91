-- +goose Up
-- Issue 12's correctness leftovers.
-- Who holds a stop of access (Rules AV-02, AA-25): one row per
-- target ('client:' and its id, 'consumer:' and its orgnr) and holder
-- ('incident:' and a breach case's id; 'register' for a suspension made on
-- the consumer's page); the access comes back only when the last holder
-- releases it. A stop made before this migration has no row: the first
-- resumption resumes it, as before.
CREATE TABLE access_stops (
    target TEXT NOT NULL,
    holder TEXT NOT NULL,
    at     BIGINT NOT NULL,
    actor  TEXT NOT NULL,
    PRIMARY KEY (target, holder)
);
-- The letters to the consumers affected by a breach at the register (Rule
-- AA-22), one per case, consumer and phase, so that a form submitted twice
-- sends nothing the second time.
CREATE TABLE incident_consumer_letters (
    incident TEXT NOT NULL,
    consumer TEXT NOT NULL,
    phase    TEXT NOT NULL,
    at       BIGINT NOT NULL,
    PRIMARY KEY (incident, consumer, phase)
);
-- A service incident's priority changes (Rule AA-19): old, new, who, when;
-- and the priority each clock was measured under when it stopped, so that a
-- later change does not rewrite a result already measured.
CREATE TABLE service_incident_priorities (
    id       TEXT PRIMARY KEY,
    incident TEXT NOT NULL,
    at       BIGINT NOT NULL,
    actor    TEXT NOT NULL,
    old      TEXT NOT NULL,
    new      TEXT NOT NULL
);
CREATE INDEX service_incident_priorities_incident ON service_incident_priorities (incident, at);
ALTER TABLE service_incidents ADD COLUMN first_notice_priority TEXT NOT NULL DEFAULT '';
ALTER TABLE service_incidents ADD COLUMN reacted_priority TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE service_incidents DROP COLUMN reacted_priority;
ALTER TABLE service_incidents DROP COLUMN first_notice_priority;
DROP TABLE service_incident_priorities;
DROP TABLE incident_consumer_letters;
DROP TABLE access_stops;
