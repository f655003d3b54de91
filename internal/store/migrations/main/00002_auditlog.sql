-- +goose Up
-- The tamper-evident lookup log. Each record is a leaf of an RFC 6962 Merkle
-- tree: seq is its leaf index. The leaf hash covers a random salt and the
-- canonical record; retention erases salt and record, and the leaf hash (in
-- merkle_nodes, level 0) keeps every proof valid.
CREATE TABLE audit_log (
    seq      BIGINT PRIMARY KEY,
    id       TEXT NOT NULL,
    time     BIGINT NOT NULL,
    kind     TEXT NOT NULL,
    consumer TEXT NOT NULL DEFAULT '',
    salt     BYTEA,
    record   BYTEA
);
CREATE INDEX audit_log_consumer ON audit_log (consumer, time, seq);
CREATE INDEX audit_log_time ON audit_log (time);

-- The identities each record returned, for a person's insight into lookups on them.
CREATE TABLE audit_subjects (
    ident TEXT NOT NULL,
    seq   BIGINT NOT NULL,
    PRIMARY KEY (ident, seq)
);

-- Every perfect-subtree node of the tree: level 0 the leaves.
CREATE TABLE merkle_nodes (
    level INTEGER NOT NULL,
    idx   BIGINT NOT NULL,
    hash  BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

-- The tree's size and compact range (the hashes that extend it), one row.
CREATE TABLE log_state (
    id           INTEGER PRIMARY KEY,
    size         BIGINT NOT NULL,
    range_hashes BYTEA NOT NULL
);
INSERT INTO log_state (id, size, range_hashes) VALUES (1, 0, '');

CREATE TABLE checkpoints (
    size       BIGINT PRIMARY KEY,
    root       BYTEA NOT NULL,
    signed     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE checkpoints;
DROP TABLE log_state;
DROP TABLE merkle_nodes;
DROP TABLE audit_subjects;
DROP TABLE audit_log;
