-- +goose Up
-- must_change_password: the account's password was set by someone else (the
-- forvalter, the CLI, a reset): its owner changes it at the next sign-in,
-- before anything else. password_gen counts changes of the password: a
-- session made before the last change ends at its next request.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN password_gen INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN password_gen;
ALTER TABLE users DROP COLUMN must_change_password;
