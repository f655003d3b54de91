-- +goose Up
-- Digital post, the API's review (issue 14).
--
-- Index-driven sender queries (Rule DPV-05, research §1.8): bulk status and
-- the sender's listing read the actual sender's rows and the technical
-- sender's rows as two branches of a UNION ALL, each on its own index, so
-- that other senders' rows are never scanned.
CREATE INDEX post_correspondences_technical_ref ON post_correspondences (technical, senders_reference);
CREATE INDEX post_correspondences_sender_publish ON post_correspondences (sender, publish_at);
CREATE INDEX post_correspondences_technical_publish ON post_correspondences (technical, publish_at);
-- Rule DPV-09/DPV-10: a sender that leaves has its post deleted (DPV-11),
-- but what it sent still counts against its free volume if it is registered
-- again: the creation time of each correspondence deleted is kept here.
CREATE TABLE post_sent_removed (
    sender     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX post_sent_removed_sender ON post_sent_removed (sender, created_at);
-- Rule DPV-10: the notice of a refusal beyond the free volume, sent once a
-- sender and quota year.
CREATE TABLE post_quota_refusals (
    sender     TEXT NOT NULL,
    year       BIGINT NOT NULL,
    noticed_at BIGINT NOT NULL,
    PRIMARY KEY (sender, year)
);
-- An upload's chunks staged on PostgreSQL (under "part.<id>.<n>") carry
-- when they were written, so that those of an upload that never finished
-- are swept.
ALTER TABLE post_attachment_chunks ADD COLUMN staged_at BIGINT;
-- The sweep finds staged chunks by this expression, not by a range of text,
-- which a non-C collation does not sort by bytes; this index holds only them.
CREATE INDEX post_attachment_chunks_staged ON post_attachment_chunks (attachment) WHERE substr(attachment, 1, 5) = 'part.';

-- +goose Down
DROP INDEX post_attachment_chunks_staged;
ALTER TABLE post_attachment_chunks DROP COLUMN staged_at;
DROP TABLE post_quota_refusals;
DROP TABLE post_sent_removed;
DROP INDEX post_correspondences_technical_publish;
DROP INDEX post_correspondences_sender_publish;
DROP INDEX post_correspondences_technical_ref;
