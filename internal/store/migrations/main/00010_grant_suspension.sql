-- +goose Up
-- Who suspended a grant, and so what resumes it (access.SuspensionCause):
-- 'register' for the register's suspension of a consumer for a breach (Rule
-- AA-25, resumed with the consumer), 'operator' for a grant suspended on its
-- own; '' while the grant is not suspended. It used to be told by the status
-- reason beginning with 'suspendert (AA-25): ' (20 characters); the reason
-- stays, as text only.
ALTER TABLE grants ADD COLUMN suspension TEXT NOT NULL DEFAULT '';
UPDATE grants SET suspension = CASE WHEN substr(status_reason, 1, 20) = 'suspendert (AA-25): ' THEN 'register' ELSE 'operator' END
    WHERE status = 'suspended';

-- +goose Down
ALTER TABLE grants DROP COLUMN suspension;
