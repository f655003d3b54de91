-- +goose Up
-- An organisation's administrator invites a person to a role (Rule AA-27).
-- The role is held only once the person accepts through the single-use link
-- mailed to them (or, for a new account, sets a password through it): nobody
-- is given a role for an organisation without their consent, and the answer
-- to the administrator is the same whether the address had an account or not.
-- Only the token's SHA-256 is kept. sent is false for an attempt refused in
-- silence (a blocked account, a person's or the register's staff's account,
-- a role already held): no letter went out and the link is worthless, but it
-- counts against the organisation's daily limit like any other invitation.
CREATE TABLE invitations (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    org        TEXT NOT NULL,
    role       TEXT NOT NULL,
    sent       BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX invitations_user ON invitations (user_id);
CREATE INDEX invitations_org ON invitations (org, created_at);

-- +goose Down
DROP TABLE invitations;
