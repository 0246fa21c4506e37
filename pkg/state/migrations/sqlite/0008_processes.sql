-- +goose Up
-- Liveness of lethe serve processes: each renews its row every few seconds,
-- so the work of a process that stopped beating is resumed at once. On
-- SQLite one process serves a state file at a time (a lock file beside it),
-- and the rows say which process left work behind. River records in
-- river_job.attempted_by which process runs a job; the id here is that
-- River client id.
CREATE TABLE lethe_processes (
    id         TEXT PRIMARY KEY,
    host       TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    started_at DATETIME NOT NULL,
    beat_at    DATETIME NOT NULL
);

-- The process running a retention run: a run whose process stopped beating
-- is taken over at once, one whose process lives never is.
ALTER TABLE lethe_retention_runs ADD COLUMN process_id TEXT NOT NULL DEFAULT '';

-- The process running a request: a process whose request was taken over
-- (it stalled past its heartbeat) finds so at its next journal write and
-- stops, so one erasure never runs twice at once.
ALTER TABLE lethe_requests ADD COLUMN process_id TEXT NOT NULL DEFAULT '';
