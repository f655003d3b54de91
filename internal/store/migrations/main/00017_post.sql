-- +goose Up
-- Digital post to businesses (issue 14; Rules DPV-01..DPV-11): an
-- Altinn-3-style correspondence service. internal/post decides; these
-- tables keep. Times are unix microseconds, UTC.
--
-- Eligible senders, registered by the register's staff (DPV-01): the
-- registration as JSON of post.Sender (service lead and deputy or shared
-- address, DPV-09; categories, DPV-02; a full agreement, DPV-10); left_at
-- when it left (DPV-11).
CREATE TABLE post_senders (
    orgnr         TEXT PRIMARY KEY,
    body          TEXT NOT NULL,
    registered_at BIGINT NOT NULL,
    left_at       BIGINT
);
-- An actual sender's delegation to a technical sender (DPV-04).
CREATE TABLE post_sender_delegations (
    actual     TEXT NOT NULL,
    technical  TEXT NOT NULL,
    from_at    BIGINT NOT NULL,
    until_at   BIGINT,
    revoked_at BIGINT,
    PRIMARY KEY (actual, technical)
);
-- One correspondence per recipient. sender is the actual sender, technical
-- the organisation whose token sent it (equal unless on behalf, DPV-04).
-- body is JSON of post.Correspondence as initialized (content, notification…).
-- current is the current status (post.Current) kept with every change, so
-- that listing and bulk status need no history scan.
CREATE TABLE post_correspondences (
    id                TEXT PRIMARY KEY,
    sender            TEXT NOT NULL,
    technical         TEXT NOT NULL,
    recipient         TEXT NOT NULL,
    senders_reference TEXT NOT NULL,
    resource_id       TEXT NOT NULL,
    message_sender    TEXT NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL,
    publish_at        BIGINT NOT NULL,
    due_at            BIGINT,
    confirmation      BIGINT NOT NULL DEFAULT 0,
    confidential      BIGINT NOT NULL DEFAULT 0,
    current           BIGINT NOT NULL,
    body              TEXT NOT NULL
);
CREATE INDEX post_correspondences_sender_ref ON post_correspondences (sender, senders_reference);
CREATE INDEX post_correspondences_sender_created ON post_correspondences (sender, created_at);
CREATE INDEX post_correspondences_recipient ON post_correspondences (recipient, created_at);
CREATE INDEX post_correspondences_publish ON post_correspondences (current, publish_at);
-- The status history, oldest first by seq.
CREATE TABLE post_status (
    correspondence TEXT NOT NULL,
    seq            BIGINT NOT NULL,
    status         BIGINT NOT NULL,
    at             BIGINT NOT NULL,
    actor          TEXT NOT NULL,
    PRIMARY KEY (correspondence, seq)
);
-- idempotentKey per sender (research §1.7): never expires, survives a purge.
CREATE TABLE post_idempotency (
    sender         TEXT NOT NULL,
    key            TEXT NOT NULL,
    hash           TEXT NOT NULL,
    correspondence TEXT NOT NULL,
    first_used     BIGINT NOT NULL,
    PRIMARY KEY (sender, key)
);
-- Attachments: metadata here; the bytes in the data directory on SQLite
-- (file named by id) and in post_attachment_chunks on PostgreSQL.
-- uploaded_at is NULL until the bytes are in and their checksum matched.
CREATE TABLE post_attachments (
    id                TEXT PRIMARY KEY,
    correspondence    TEXT NOT NULL,
    file_name         TEXT NOT NULL,
    display_name      TEXT NOT NULL DEFAULT '',
    senders_reference TEXT NOT NULL,
    checksum          TEXT NOT NULL DEFAULT '',
    size              BIGINT NOT NULL DEFAULT 0,
    uploaded_at       BIGINT
);
CREATE INDEX post_attachments_correspondence ON post_attachments (correspondence);
CREATE TABLE post_attachment_chunks (
    attachment TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    data       BYTEA NOT NULL,
    PRIMARY KEY (attachment, seq)
);
-- Notifications sent (and re-notifications, DPV-06), per correspondence.
CREATE TABLE post_notifications (
    correspondence TEXT NOT NULL,
    kind           TEXT NOT NULL,
    recipient      TEXT NOT NULL,
    sent_at        BIGINT NOT NULL,
    PRIMARY KEY (correspondence, kind, recipient)
);
-- Post/Arkiv delegations (DPV-03): to a person (party_kind person, party
-- the user id), an organisation or an enterprise user; by whom.
CREATE TABLE post_reading_delegations (
    id         TEXT PRIMARY KEY,
    org        TEXT NOT NULL,
    party_kind TEXT NOT NULL,
    party      TEXT NOT NULL,
    rights     TEXT NOT NULL,
    by_party   TEXT NOT NULL,
    from_at    BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX post_reading_delegations_org ON post_reading_delegations (org);

-- +goose Down
DROP TABLE post_reading_delegations;
DROP TABLE post_notifications;
DROP TABLE post_attachment_chunks;
DROP TABLE post_attachments;
DROP TABLE post_idempotency;
DROP TABLE post_status;
DROP TABLE post_correspondences;
DROP TABLE post_sender_delegations;
DROP TABLE post_senders;
