-- +goose Up
-- Record version 2 (Rules AA-16, AA-17): a record's leaf holds a salted
-- commitment for each identity it names; the salts are kept here, beside it,
-- so that a person's receipt discloses their own salt and no one else's.
-- audit_subjects now holds every identity a record names: role 'returned'
-- (their data was returned; the insight index) or 'named' (in the request or
-- event only). salt is NULL for version-1 records, which hold identities in
-- the clear. The kept response (--keep-responses) moves out of the leaf into
-- audit_log.response, covered by the record's responseSha256.
ALTER TABLE audit_subjects ADD COLUMN salt BYTEA;
ALTER TABLE audit_subjects ADD COLUMN role TEXT NOT NULL DEFAULT 'returned';
CREATE INDEX audit_subjects_seq ON audit_subjects (seq);
ALTER TABLE audit_log ADD COLUMN response BYTEA;

-- +goose Down
ALTER TABLE audit_log DROP COLUMN response;
DROP INDEX audit_subjects_seq;
ALTER TABLE audit_subjects DROP COLUMN role;
ALTER TABLE audit_subjects DROP COLUMN salt;
