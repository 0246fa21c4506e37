-- +goose Up
-- Runs of two kinds: the registry's retention rules ('retention') and the
-- purge of the responses of tenants that stopped collecting them
-- ('responses'). Each kind has at most one real run queued or running.
ALTER TABLE lethe_retention_runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'retention';
DROP INDEX lethe_retention_runs_one_active;
CREATE UNIQUE INDEX lethe_retention_runs_one_active ON lethe_retention_runs (kind) WHERE status IN ('queued', 'running') AND NOT dry_run;
CREATE INDEX lethe_retention_runs_kind ON lethe_retention_runs (kind, created_at DESC, id DESC);
