-- +goose Up
-- The head of the audit chain keeps the hash of the entry before it too.
-- On Postgres one statement then moves the head on and computes the new
-- entry's hash from the old one (an UPDATE's SET reads the row as it was),
-- and returns both for the entry it inserts: an append needs no read of
-- the head first.
ALTER TABLE lethe_audit_head ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
UPDATE lethe_audit_head SET prev_hash = COALESCE((SELECT a.prev_hash FROM lethe_audit a WHERE a.seq = lethe_audit_head.seq), '');
