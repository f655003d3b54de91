-- +goose Up
-- Digital post (issue 14, Rule DPV-06): whether the sender asked for a
-- reminder when a correspondence stays unread, as a column the notification
-- job's query reads, instead of a LIKE on the stored JSON body.
ALTER TABLE post_correspondences ADD COLUMN send_reminder BIGINT NOT NULL DEFAULT 0;
UPDATE post_correspondences SET send_reminder = 1 WHERE body LIKE '%"sendReminder":true%';

-- +goose Down
ALTER TABLE post_correspondences DROP COLUMN send_reminder;
