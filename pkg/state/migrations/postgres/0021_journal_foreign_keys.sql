-- +goose Up
-- A request's journal rows (its steps and frozen keys) reference
-- lethe_requests by no foreign key. Postgres checks one for every row
-- inserted, with a query and a lock on the request's row (FOR KEY SHARE):
-- for a small erasure (fourteen keys and steps at the freeze, four steps
-- after) about a tenth of the server's CPU for all its state statements.
-- What the key guaranteed holds without it: a request is never deleted,
-- and a serving process's journal writes only while its request is
-- running in that process (the fence in each statement, which reads the
-- row the key checked).
ALTER TABLE lethe_request_steps DROP CONSTRAINT IF EXISTS lethe_request_steps_request_id_fkey;
ALTER TABLE lethe_request_keys DROP CONSTRAINT IF EXISTS lethe_request_keys_request_id_fkey;
