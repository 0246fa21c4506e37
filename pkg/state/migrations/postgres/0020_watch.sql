-- +goose Up
-- The last verification of the audit chain and its signed checkpoints, run
-- by the elected leader every few minutes: every replica's /metrics reads
-- it (lethe_audit_verified, lethe_audit_last_verified_timestamp_seconds),
-- so the figure does not depend on which replica leads or is scraped. One
-- row; problem says what broke, never whose entry.
CREATE TABLE lethe_audit_verification (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    ok          BOOLEAN NOT NULL,
    entries     BIGINT NOT NULL,
    bad_seq     BIGINT NOT NULL DEFAULT 0,
    problem     TEXT NOT NULL DEFAULT '',
    verified_at TIMESTAMPTZ NOT NULL
);

-- /metrics reads the latest completed and failed sweeps at every scrape;
-- runs accumulate (the responses sweep records one whenever it purges),
-- so the read needs an index.
CREATE INDEX lethe_retention_runs_ended ON lethe_retention_runs (kind, status, finished_at);
