-- +goose Up
-- Who may get what: consumers, their API clients and keys, grants (vedtak),
-- delegations to data processors; the token server's signing keys and used
-- assertion ids.

-- category: e.g. offentlig, privat, pensjon; the register's policy on showing
-- a person the lookups made on them is set per category (Rule AA-17).
CREATE TABLE consumers (
    orgnr      TEXT PRIMARY KEY,
    navn       TEXT NOT NULL,
    status     TEXT NOT NULL,
    category   TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE clients (
    client_id   TEXT PRIMARY KEY,
    orgnr       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX clients_orgnr ON clients (orgnr);

-- A client's public keys: kind 'jwk' (material is the public JWK) or
-- 'certificate' (material is the PEM of an enterprise certificate).
CREATE TABLE client_keys (
    client_id  TEXT NOT NULL,
    kid        TEXT NOT NULL,
    kind       TEXT NOT NULL,
    material   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, kid)
);

CREATE TABLE grants (
    id               TEXT PRIMARY KEY,
    consumer         TEXT NOT NULL,
    packages         TEXT NOT NULL,
    channel          TEXT NOT NULL,
    env              TEXT NOT NULL,
    legal_basis      TEXT NOT NULL,
    processing_basis TEXT NOT NULL,
    purpose          TEXT NOT NULL,
    query_kinds      TEXT NOT NULL,
    valid_from       BIGINT NOT NULL,
    valid_to         BIGINT,
    rate_limit       INTEGER NOT NULL,
    status           TEXT NOT NULL,
    status_reason    TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX grants_consumer ON grants (consumer);

CREATE TABLE delegations (
    id         TEXT PRIMARY KEY,
    consumer   TEXT NOT NULL,
    processor  TEXT NOT NULL,
    dpa_ref    TEXT NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_to   BIGINT,
    status     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX delegations_consumer ON delegations (consumer, processor);

CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    private_pem TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    retired_at  BIGINT
);

CREATE TABLE token_jtis (
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX token_jtis_expires ON token_jtis (expires_at);


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
DROP TABLE token_jtis;
DROP TABLE signing_keys;
DROP TABLE delegations;
DROP TABLE grants;
DROP TABLE client_keys;
DROP TABLE clients;
DROP TABLE consumers;
