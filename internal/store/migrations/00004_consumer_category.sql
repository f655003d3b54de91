-- +goose Up
-- A consumer's category (e.g. offentlig, privat, pensjon): the register's
-- policy on showing a person the lookups made on them is set per category.
ALTER TABLE consumers ADD COLUMN category TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE consumers DROP COLUMN category;
