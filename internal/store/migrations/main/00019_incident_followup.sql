-- +goose Up
-- The rest of breach handling (issue 12): the learning follow-up of a closed
-- case (Rule AV-08) as JSON on the case — the lessons, the review date and
-- the items, each with an owner and a due date — and the notices to the
-- persons affected (Rule AV-06), one row per person and case with its text
-- and how it was delivered (e-post: a letter queued to the address the person
-- has in the portal; portal: shown on their own page only). person_pid is
-- the person's fødselsnummer, read only for the person's own page.
ALTER TABLE incidents ADD COLUMN followup TEXT;
CREATE TABLE incident_person_notices (
    id         TEXT PRIMARY KEY,
    incident   TEXT NOT NULL,
    person_pid TEXT NOT NULL,
    at         BIGINT NOT NULL,
    delivery   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    UNIQUE (incident, person_pid)
);
CREATE INDEX incident_person_notices_pid ON incident_person_notices (person_pid, at);
-- The support channel (Rule AA-18): faults and change requests from a
-- consumer's users; a fault becomes a service incident (service_incident).
CREATE TABLE support_cases (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    title            TEXT NOT NULL,
    description      TEXT NOT NULL,
    reporter_user    TEXT NOT NULL,
    reporter_name    TEXT NOT NULL,
    reporter_org     TEXT NOT NULL,
    reported_at      BIGINT NOT NULL,
    answer           TEXT NOT NULL DEFAULT '',
    answered_at      BIGINT,
    service_incident TEXT
);
CREATE INDEX support_cases_org ON support_cases (reporter_org, reported_at);
-- Service incidents with priority A/B/C and their clocks (Rule AA-19):
-- consumers is a JSON array of the consumers affected ([] for all); every
-- status update is a row in service_incident_updates and an operational
-- notice (notices), the first of them the first notice.
CREATE TABLE service_incidents (
    id              TEXT PRIMARY KEY,
    title           TEXT NOT NULL,
    description     TEXT NOT NULL,
    priority        TEXT NOT NULL DEFAULT '',
    reporter_user   TEXT NOT NULL,
    reporter_name   TEXT NOT NULL,
    reporter_org    TEXT NOT NULL,
    consumers       TEXT NOT NULL,
    reported_at     BIGINT NOT NULL,
    first_notice_at BIGINT,
    reacted_at      BIGINT,
    resolved_at     BIGINT,
    version         BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX service_incidents_reported ON service_incidents (reported_at);
CREATE TABLE service_incident_updates (
    id       TEXT PRIMARY KEY,
    incident TEXT NOT NULL,
    at       BIGINT NOT NULL,
    actor    TEXT NOT NULL,
    body     TEXT NOT NULL,
    notice   TEXT NOT NULL
);
CREATE INDEX service_incident_updates_incident ON service_incident_updates (incident, at);

-- +goose Down
DROP TABLE service_incident_updates;
DROP TABLE service_incidents;
DROP TABLE support_cases;
DROP TABLE incident_person_notices;
ALTER TABLE incidents DROP COLUMN followup;
