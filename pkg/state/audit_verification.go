package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AuditCheck is the outcome of the last verification of the audit chain
// recorded in lethe_audit_verification.
type AuditCheck struct {
	OK      bool
	Entries int64
	BadSeq  int64
	Problem string
	At      time.Time
}

// VerifyAndRecord verifies the chain and its checkpoints (Verify) and
// records the outcome, for /metrics on every replica. A verification that
// could not run (state store or anchor unreadable) records nothing and
// returns the error: the last recorded time then ages, which
// lethe_audit_last_verified_timestamp_seconds shows.
func (l *AuditLog) VerifyAndRecord(ctx context.Context) (*AuditCheck, error) {
	v, err := l.Verify(ctx)
	if err != nil {
		return nil, err
	}
	c := &AuditCheck{OK: v.OK, Entries: v.Entries, BadSeq: v.BadSeq, Problem: v.Problem, At: l.DB.now()}
	q := `INSERT INTO lethe_audit_verification (id, ok, entries, bad_seq, problem, verified_at) VALUES (1, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET ok = excluded.ok, entries = excluded.entries, bad_seq = excluded.bad_seq,
		problem = excluded.problem, verified_at = excluded.verified_at`
	if l.DB.Dialect == Postgres {
		q = `INSERT INTO lethe_audit_verification (id, ok, entries, bad_seq, problem, verified_at) VALUES (1, $1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET ok = excluded.ok, entries = excluded.entries, bad_seq = excluded.bad_seq,
		problem = excluded.problem, verified_at = excluded.verified_at`
	}
	if _, err := l.DB.SQL.ExecContext(ctx, q, c.OK, c.Entries, c.BadSeq, c.Problem, c.At); err != nil {
		return nil, fmt.Errorf("audit: record the verification: %w", err)
	}
	return c, nil
}

// LastCheck returns the last recorded verification, or nil before the
// first.
func (l *AuditLog) LastCheck(ctx context.Context) (*AuditCheck, error) {
	var c AuditCheck
	err := l.DB.SQL.QueryRowContext(ctx, `SELECT ok, entries, bad_seq, problem, verified_at FROM lethe_audit_verification WHERE id = 1`).
		Scan(&c.OK, &c.Entries, &c.BadSeq, &c.Problem, &c.At)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("audit: read the last verification: %w", err)
	}
	c.At = c.At.UTC()
	return &c, nil
}
