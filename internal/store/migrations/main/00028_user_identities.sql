-- +goose Up
-- Sign-in with OpenID Connect (issue 16, item 6): an account linked to an
-- identity at a provider, by the provider's issuer and the identity's
-- subject (the ID token's iss and sub). A person signing in with ID-porten
-- is linked on first sign-in by the fødselsnummer (users.pid); a member of
-- the register's staff only by the forvalter (deling user link) or by a
-- verified e-mail address already on the account.
CREATE TABLE user_identities (
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX user_identities_user ON user_identities (user_id);
-- users (pid) is indexed since 00025 (users_pid).

-- +goose Down
DROP TABLE user_identities;
