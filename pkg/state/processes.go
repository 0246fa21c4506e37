package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"
)

// DefaultDeadAfter is how long a process may go without renewing its
// heartbeat before its work is taken over: three missed beats of the
// default five seconds.
const DefaultDeadAfter = 15 * time.Second

// Process is a row of lethe_processes: one running lethe serve.
type Process struct {
	ID        string
	Host      string
	PID       int
	StartedAt time.Time
	BeatAt    time.Time
}

// NewProcess returns the identity of this process: a fresh id (also its
// River client id, so river_job.attempted_by names it), host and pid.
func NewProcess() Process {
	host, _ := os.Hostname()
	return Process{ID: "lethe-" + uuid.Must(uuid.NewV7()).String(), Host: host, PID: os.Getpid()}
}

// Processes keeps the heartbeats of lethe serve processes. On Postgres the
// database's clock stamps and judges every beat, so replicas whose clocks
// drift apart still agree on who is alive; SQLite serves one host.
type Processes struct {
	DB *DB
	// DeadAfter is how long a process may go without a beat before it is
	// taken for dead (default DefaultDeadAfter).
	DeadAfter time.Duration
	// Alone says the caller holds the store's serve lock (LockServe): no
	// other process can be running, so Live and Dead take every other one
	// for dead, however recent its last beat. A process restarted at once
	// after a kill finds its predecessor's beat still fresh, and must not
	// wait DeadAfter for the work that predecessor left.
	Alone bool
}

func (p *Processes) deadAfter() time.Duration {
	if p.DeadAfter <= 0 {
		return DefaultDeadAfter
	}
	return p.DeadAfter
}

// Beat records that process pr is alive, inserting its row on the first
// beat. It reports whether the row had already gone stale before this beat
// (other processes may have taken its work over): the caller must then stop
// that work.
func (p *Processes) Beat(ctx context.Context, pr Process) (lapsed bool, err error) {
	q, args := `SELECT beat_at < ? FROM lethe_processes WHERE id = ?`, []any{p.DB.now().Add(-p.deadAfter()), pr.ID}
	if p.DB.Dialect == Postgres {
		q, args[0] = `SELECT beat_at < clock_timestamp() - make_interval(secs => $1) FROM lethe_processes WHERE id = $2`, p.deadAfter().Seconds()
	}
	if err := p.DB.SQL.QueryRowContext(ctx, q, args...).Scan(&lapsed); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("state: heartbeat of process %s: %w", pr.ID, err)
	}
	args = []any{pr.ID, pr.Host, pr.PID}
	if p.DB.Dialect == Postgres {
		q = `INSERT INTO lethe_processes (id, host, pid, started_at, beat_at) VALUES ($1, $2, $3, clock_timestamp(), clock_timestamp())
			ON CONFLICT (id) DO UPDATE SET beat_at = clock_timestamp()`
	} else {
		now := p.DB.now()
		q = `INSERT INTO lethe_processes (id, host, pid, started_at, beat_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET beat_at = excluded.beat_at`
		args = append(args, now, now)
	}
	if _, err := p.DB.SQL.ExecContext(ctx, q, args...); err != nil {
		return false, fmt.Errorf("state: heartbeat of process %s: %w", pr.ID, err)
	}
	return lapsed, nil
}

// Dead returns the ids of the processes other than self whose last beat is
// older than DeadAfter: their running work is orphaned. A process that
// never beat (an older Lethe) is absent, so its work is left to River's
// own, much slower rescue.
func (p *Processes) Dead(ctx context.Context, self string) ([]string, error) {
	if p.Alone {
		return p.Others(ctx, self)
	}
	var q string
	var args []any
	if p.DB.Dialect == Postgres {
		q = `SELECT id FROM lethe_processes WHERE id <> $1 AND beat_at < clock_timestamp() - make_interval(secs => $2)`
		args = []any{self, p.deadAfter().Seconds()}
	} else {
		q = `SELECT id FROM lethe_processes WHERE id <> ? AND beat_at < ?`
		args = []any{self, p.DB.now().Add(-p.deadAfter())}
	}
	return p.ids(ctx, q, args...)
}

// Others returns the ids of every process other than self, alive or not.
// A process that holds the SQLite store's lock knows them all dead.
func (p *Processes) Others(ctx context.Context, self string) ([]string, error) {
	q := `SELECT id FROM lethe_processes WHERE id <> ?`
	if p.DB.Dialect == Postgres {
		q = `SELECT id FROM lethe_processes WHERE id <> $1`
	}
	return p.ids(ctx, q, self)
}

// Live reports whether process id, another than the caller's, has beaten
// within DeadAfter (never when Alone).
func (p *Processes) Live(ctx context.Context, id string) (bool, error) {
	return p.live(ctx, p.DB.SQL, id)
}

// rowQuerier is a pool or a transaction.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (p *Processes) live(ctx context.Context, db rowQuerier, id string) (bool, error) {
	if p.Alone {
		return false, nil
	}
	q, args := `SELECT count(*) FROM lethe_processes WHERE id = ? AND beat_at >= ?`, []any{id, p.DB.now().Add(-p.deadAfter())}
	if p.DB.Dialect == Postgres {
		q = `SELECT count(*) FROM lethe_processes WHERE id = $1 AND beat_at >= clock_timestamp() - make_interval(secs => $2)`
		args[1] = p.deadAfter().Seconds()
	}
	var n int
	if err := db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return false, fmt.Errorf("state: read process %s: %w", id, err)
	}
	return n > 0, nil
}

// Forget deletes the rows of processes silent for longer than olderThan,
// once nothing they ran can still be waiting for a rescue.
func (p *Processes) Forget(ctx context.Context, olderThan time.Duration) error {
	q, arg := `DELETE FROM lethe_processes WHERE beat_at < ?`, any(p.DB.now().Add(-olderThan))
	if p.DB.Dialect == Postgres {
		q, arg = `DELETE FROM lethe_processes WHERE beat_at < clock_timestamp() - make_interval(secs => $1)`, olderThan.Seconds()
	}
	if _, err := p.DB.SQL.ExecContext(ctx, q, arg); err != nil {
		return fmt.Errorf("state: forget silent processes: %w", err)
	}
	return nil
}

func (p *Processes) ids(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := p.DB.SQL.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("state: read processes: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("state: read processes: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Census counts the rows of lethe_processes: live, those that beat within
// DeadAfter; stale, those silent for longer, until Forget removes them a
// day later. A process that stops cleanly removes its own row, so a stale
// one died without stopping (killed, lost host or network).
func (p *Processes) Census(ctx context.Context) (live, stale int64, err error) {
	cut := p.DB.now().Add(-p.deadAfter())
	q, args := `SELECT count(*) FILTER (WHERE beat_at >= ?), count(*) FILTER (WHERE beat_at < ?) FROM lethe_processes`, []any{cut, cut}
	if p.DB.Dialect == Postgres {
		q = `SELECT count(*) FILTER (WHERE beat_at >= clock_timestamp() - make_interval(secs => $1)),
			count(*) FILTER (WHERE beat_at < clock_timestamp() - make_interval(secs => $1)) FROM lethe_processes`
		args = []any{p.deadAfter().Seconds()}
	}
	if err := p.DB.SQL.QueryRowContext(ctx, q, args...).Scan(&live, &stale); err != nil {
		return 0, 0, fmt.Errorf("state: count processes: %w", err)
	}
	return live, stale, nil
}
