-- +goose Up
-- Who was affected by a breach, computed from the lookup log (issue 12 item
-- 6; Rules AV-05, AA-22): each computation on a case is kept with its time,
-- as JSON of incident.AffectedCount — the scope (consumer, client, web user,
-- window), the checkpoint it was computed at (size and root hash) and the
-- counts, never the identities: the list itself is computed again from the
-- log at that checkpoint when it is downloaded. The scan over the log uses
-- audit_log's existing indexes (consumer, time, seq) and (time); no new one.
CREATE TABLE incident_affected (
    id       TEXT PRIMARY KEY,
    incident TEXT NOT NULL,
    at       BIGINT NOT NULL,
    body     TEXT NOT NULL
);
CREATE INDEX incident_affected_incident ON incident_affected (incident, at);

-- +goose Down
DROP TABLE incident_affected;
