-- +goose Up
-- Digital post, review of issue 14: what one initialize request shares
-- among its correspondences is stored once.
--
-- post_bodies: the request's correspondence JSON (content, notification…),
-- referred to by every correspondence it made (body_id); their own body is
-- then ''. A purge gives the purged correspondence its own body without the
-- content and drops the shared one when nothing refers to it any more.
CREATE TABLE post_bodies (
    id   TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
ALTER TABLE post_correspondences ADD COLUMN body_id TEXT;
CREATE INDEX post_correspondences_body ON post_correspondences (body_id);
-- An attachment is the request's, shared by all its correspondences (as
-- Altinn 3 has one id per attachment): post_attachments.correspondence is
-- the request's first correspondence; this links it to each of them.
CREATE TABLE post_attachment_links (
    correspondence TEXT NOT NULL,
    attachment     TEXT NOT NULL,
    PRIMARY KEY (correspondence, attachment)
);
CREATE INDEX post_attachment_links_attachment ON post_attachment_links (attachment);
-- Attachments made before this migration belong to their one correspondence.
INSERT INTO post_attachment_links (correspondence, attachment) SELECT correspondence, id FROM post_attachments;
-- purged_at: the bytes were deleted by a purge of the correspondence.
ALTER TABLE post_attachments ADD COLUMN purged_at BIGINT;
-- custom: the address is one of the sender's customRecipients, which the
-- sender may see; the recipient's contacts' addresses it may not (Rule DPV-06).
ALTER TABLE post_notifications ADD COLUMN custom BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE post_notifications DROP COLUMN custom;
ALTER TABLE post_attachments DROP COLUMN purged_at;
DROP TABLE post_attachment_links;
DROP INDEX post_correspondences_body;
ALTER TABLE post_correspondences DROP COLUMN body_id;
DROP TABLE post_bodies;
