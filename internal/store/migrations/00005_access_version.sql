-- +goose Up
-- Bumped in the same transaction as every change to consumers, grants and
-- delegations, by any process: a cache of access decisions' inputs is valid
-- exactly while this is unchanged.
CREATE TABLE access_version (
    id      INTEGER PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO access_version (id, version) VALUES (1, 0);

-- +goose Down
DROP TABLE access_version;
