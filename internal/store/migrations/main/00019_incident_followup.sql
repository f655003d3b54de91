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

-- +goose Down
DROP TABLE incident_person_notices;
ALTER TABLE incidents DROP COLUMN followup;
