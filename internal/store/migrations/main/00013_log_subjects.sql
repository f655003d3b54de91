-- +goose Up
-- Record version 2 (Rules AA-16, AA-17): a record's leaf holds a salted
-- commitment for each identity it names; the identities with their salts are
-- kept here, beside the leaf, one blob per record (audit.EncodeSubjects), so
-- that a person's receipt discloses their own salt and no one else's. The
-- kept response (--log-responses) moves out of the leaf too, covered by the
-- record's responseSha256. Both are NULL for version-1 records, and erased
-- with the record by retention. audit_subjects stays the insight index of the
-- persons returned.
ALTER TABLE audit_log ADD COLUMN subjects BYTEA;
ALTER TABLE audit_log ADD COLUMN response BYTEA;

-- +goose Down
ALTER TABLE audit_log DROP COLUMN response;
ALTER TABLE audit_log DROP COLUMN subjects;
