-- +goose Up
-- Notifying the persons a breach affected as a job (Rule AV-06): the case
-- worker starts it with the notice's text (subject, body: as previewed), for
-- one computation of who was affected (computation, an incident_affected
-- id); a single-run job sends it in batches, each batch one transaction that
-- records the notices (incident_person_notices, unique per case and person)
-- and moves done on, so that a restart resumes at done in the list sorted by
-- identity and no one is notified twice. total is the computation's number
-- of persons; state is running, finished or failed (the list the log gives
-- no longer matches the computation); failures counts runs that failed and
-- last_error says why. No identities here.
CREATE TABLE incident_notify_jobs (
    id          TEXT PRIMARY KEY,
    incident    TEXT NOT NULL,
    computation TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    total       BIGINT NOT NULL,
    done        BIGINT NOT NULL DEFAULT 0,
    state       TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    started_by  TEXT NOT NULL,
    finished_at BIGINT,
    failures    BIGINT NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    -- fresh: of done, the persons this job gave a notice; the rest had one on the case already.
    fresh       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX incident_notify_jobs_incident ON incident_notify_jobs (incident, started_at);
CREATE INDEX incident_notify_jobs_state ON incident_notify_jobs (state);
-- The public notice of a case (art. 34(3)(c), Rule AV-06): the notice on the
-- public notices page that informs the persons not told one by one.
CREATE TABLE incident_public_notices (
    incident TEXT PRIMARY KEY,
    notice   TEXT NOT NULL,
    at       BIGINT NOT NULL
);
-- Each notice looks up the person's portal address by fødselsnummer: an index, so that a batch does not scan users once per person.
CREATE INDEX users_pid ON users (pid);

-- +goose Down
DROP INDEX users_pid;
DROP TABLE incident_public_notices;
DROP TABLE incident_notify_jobs;
