-- +goose Up
-- A data processor's breach report under a data processing agreement (Rule
-- DPA-07): the agreement's controller (the consumer), whose administrator
-- and role holder may read the case; '' for every other case.
ALTER TABLE incidents ADD COLUMN controller_org TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE incidents DROP COLUMN controller_org;
