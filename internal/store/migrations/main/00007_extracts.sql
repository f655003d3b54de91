-- +goose Up
-- Extracts (uttrekk): asynchronous jobs that write a consumer's arbeidsforhold
-- to batch files (issue 6). A job holds what was asked (query: the criteria as
-- JSON, with the persons or employers; emptied when the result expires), who
-- asked (consumer, processor, client or portal user), and the package
-- definitions the decision rested on when it was made, so that a runner
-- projects with exactly those elements. Status: venter, kjorer, ferdig,
-- feilet, utlopt.
--
-- A runner claims a job by setting claim (a random token) and heartbeat_at;
-- every later change is conditional on the claim, so two runners on one
-- PostgreSQL never run the same job. resume_unit/resume_after are where the
-- next batch starts (the unit index, and the last uuid written of that unit):
-- after a crash the job resumes there. units_done is progress for display.
CREATE TABLE extract_jobs (
    id             TEXT PRIMARY KEY,
    consumer       TEXT NOT NULL,
    processor      TEXT NOT NULL DEFAULT '',
    client_id      TEXT NOT NULL DEFAULT '',
    end_user       TEXT NOT NULL DEFAULT '',
    correlation_id TEXT NOT NULL DEFAULT '',
    env            TEXT NOT NULL,
    kind           TEXT NOT NULL,
    query          TEXT NOT NULL,
    format         TEXT NOT NULL,
    history        BOOLEAN NOT NULL,
    packages       TEXT NOT NULL,
    status         TEXT NOT NULL,
    error          TEXT NOT NULL DEFAULT '',
    units_total    BIGINT NOT NULL,
    units_done     BIGINT NOT NULL DEFAULT 0,
    written        BIGINT NOT NULL DEFAULT 0,
    batches        BIGINT NOT NULL DEFAULT 0,
    resume_unit    BIGINT NOT NULL DEFAULT 0,
    resume_after   TEXT NOT NULL DEFAULT '',
    claim          TEXT NOT NULL DEFAULT '',
    heartbeat_at   BIGINT,
    created_at     BIGINT NOT NULL,
    started_at     BIGINT,
    finished_at    BIGINT,
    expires_at     BIGINT
);
CREATE INDEX extract_jobs_consumer ON extract_jobs (consumer, created_at);
CREATE INDEX extract_jobs_status ON extract_jobs (status, created_at);

-- The batches a job has made whole: a batch is served only when its row is
-- here (the file is renamed into place before the row is written).
CREATE TABLE extract_batches (
    job_id  TEXT NOT NULL,
    n       BIGINT NOT NULL,
    records BIGINT NOT NULL,
    sha256  TEXT NOT NULL,
    PRIMARY KEY (job_id, n)
);

-- +goose Down
DROP TABLE extract_batches;
DROP TABLE extract_jobs;
