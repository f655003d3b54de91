-- +goose Up
-- The register's data. One SQL text for SQLite and PostgreSQL: TEXT keys,
-- BIGINT unix-microsecond timestamps, ISO calendar dates as TEXT (they sort).
-- On SQLite these tables have a file of their own (register.db): the lookup
-- log's constant commits to the main file then never invalidate the page
-- cache of the register's readers.

CREATE TABLE persons (
    ident              TEXT PRIMARY KEY,
    fornavn            TEXT NOT NULL,
    mellomnavn         TEXT NOT NULL DEFAULT '',
    etternavn          TEXT NOT NULL,
    adressebeskyttelse TEXT NOT NULL DEFAULT 'ugradert',
    status             TEXT NOT NULL,
    updated_at         BIGINT NOT NULL
);

CREATE TABLE organisations (
    orgnr             TEXT PRIMARY KEY,
    navn              TEXT NOT NULL,
    enhetstype        TEXT NOT NULL,
    organisasjonsform TEXT NOT NULL DEFAULT '',
    overordnet        TEXT NOT NULL DEFAULT '',
    slettedato        TEXT,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX organisations_overordnet ON organisations (overordnet);

-- One row per arbeidsforhold: the columns the queries filter on, and the whole
-- record as JSON in the API's shape. person_employer: the arbeidssted is a
-- person (a private employer under forenklet oppgjørsordning), whom screening
-- checks too.
CREATE TABLE arbeidsforhold (
    uuid                 TEXT PRIMARY KEY,
    arbeidstaker         TEXT NOT NULL,
    arbeidssted          TEXT NOT NULL,
    opplysningspliktig   TEXT NOT NULL,
    type                 TEXT NOT NULL,
    rapporteringsordning TEXT NOT NULL,
    startdato            TEXT NOT NULL,
    sluttdato            TEXT,
    doc                  TEXT NOT NULL,
    person_employer      BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX arbeidsforhold_arbeidstaker ON arbeidsforhold (arbeidstaker, uuid);
CREATE INDEX arbeidsforhold_arbeidssted ON arbeidsforhold (arbeidssted, uuid);
CREATE INDEX arbeidsforhold_opplysningspliktig ON arbeidsforhold (opplysningspliktig, uuid);

-- +goose Down
DROP TABLE arbeidsforhold;
DROP TABLE organisations;
DROP TABLE persons;
