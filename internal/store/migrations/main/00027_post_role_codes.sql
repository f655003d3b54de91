-- +goose Up
-- The Enhetsregisteret roles (role codes: DAGL, LEDE, INNH, …) a portal user
-- holds in an organisation, as registered there: the key roles that carry
-- Post/Arkiv and confidential post (Rule DPV-03). Recorded by the register's
-- staff or the demo, never by the organisation's own users.
CREATE TABLE er_role_codes (
    user_id    TEXT NOT NULL,
    org        TEXT NOT NULL,
    code       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, org, code)
);
CREATE INDEX er_role_codes_org ON er_role_codes (org);

-- The portal role holders' links to organisations that predate the role
-- codes: each stands for DAGL until codes (none too) are recorded for it
-- (post.PortalRoles), so that an upgrade cuts no reader off. Filled here,
-- once; never for a role holder made afterwards (Rule DPV-03).
CREATE TABLE er_role_legacy (
    user_id TEXT NOT NULL,
    org     TEXT NOT NULL,
    PRIMARY KEY (user_id, org)
);
INSERT INTO er_role_legacy (user_id, org)
    SELECT DISTINCT user_id, org FROM memberships WHERE role = 'rolleinnehaver';

-- +goose Down
DROP TABLE er_role_legacy;
DROP TABLE er_role_codes;
