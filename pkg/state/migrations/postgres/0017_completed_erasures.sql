-- +goose Up
-- Every replica's dictionary of known people reads, at each walk, the
-- erasures completed since the last (issue 15): by completion time.
CREATE INDEX lethe_requests_completed_erasures ON lethe_requests (finished_at) WHERE type = 'erasure' AND status = 'completed';
