-- +goose Up
-- The mail outbox claimed by the node that sends (issue 15): a sender claims
-- letters for a lease before it sends them, so that a letter in flight when
-- leadership moves is not sent by the next leader too; a claimant that dies
-- leaves its letters to be claimed again when the lease has run out.
-- claimed_until is unix microseconds; 0 is unclaimed.
ALTER TABLE mail_outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE mail_outbox ADD COLUMN claimed_until BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE mail_outbox DROP COLUMN claimed_until;
ALTER TABLE mail_outbox DROP COLUMN claimed_by;
