-- +goose Up
-- The Enhetsregisteret roles (role codes: DAGL, LEDE, INNH, …) a portal user
-- holds in an organisation, as registered there: the key roles that carry
-- Post/Arkiv and confidential post (Rule DPV-03). Recorded by the register's
-- staff or the demo, never by the organisation's own users. A user recorded
-- as holding none has one row with the empty code. While no row names an
-- organisation, its portal role holders stand for DAGL (post.PortalRoles).
CREATE TABLE er_role_codes (
    user_id    TEXT NOT NULL,
    org        TEXT NOT NULL,
    code       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, org, code)
);
CREATE INDEX er_role_codes_org ON er_role_codes (org);

-- +goose Down
DROP TABLE er_role_codes;
