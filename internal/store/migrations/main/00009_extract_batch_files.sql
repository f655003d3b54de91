-- +goose Up
-- The name of a whole batch's file. A runner writes batch n as
-- <n>.<claim>.<format>, so that a runner that lost its claim can never
-- overwrite a batch another runner committed; the row names the one file that
-- is served. Empty for batches written before this: <n>.<format>.
ALTER TABLE extract_batches ADD COLUMN file TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE extract_batches DROP COLUMN file;
