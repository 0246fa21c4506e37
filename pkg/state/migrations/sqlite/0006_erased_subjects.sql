-- +goose Up
-- What a finished request keeps of a person (issue 10). A running step's
-- resume point moves out of its detail (shown to tenants) into a column
-- that is never shown and is cleared, with the frozen keys, once the
-- request is final; requests already final lose theirs now.
ALTER TABLE lethe_request_steps ADD COLUMN cursor TEXT;
DELETE FROM lethe_request_keys WHERE request_id IN (SELECT id FROM lethe_requests WHERE status IN ('completed', 'failed', 'cancelled', 'denied'));
-- An access package deleted because its person's data was erased names
-- the erasure, so that its links answer why they no longer work.
ALTER TABLE lethe_exports ADD COLUMN erased_by TEXT;
