-- +goose Up
-- On Postgres this migration drops the foreign keys of a request's journal
-- rows (lethe_request_steps, lethe_request_keys), whose checks lock the
-- request's row and cost a query per row inserted. SQLite keeps them: its
-- check is a lookup in the same connection with no row lock, and dropping
-- a foreign key there means rebuilding the table. Nothing here.
SELECT 1;
