package queue

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/lethe-privacy/lethe/pkg/state"
)

// Defaults of the lifeline.
const (
	// DefaultHeartbeat is how often a process renews its heartbeat and
	// looks for the work of dead processes.
	DefaultHeartbeat = 5 * time.Second
	// forgetAfter is how long the row of a silent process is kept: long
	// after anything it ran has been rescued.
	forgetAfter = 24 * time.Hour
)

// lifeline keeps this process's heartbeat and gives River back the jobs of
// processes that stopped beating, as Oban's DynamicLifeline does: a running
// job whose process (the last entry of river_job.attempted_by, River's
// record of who works it) is dead is made available again at once, and
// River hands it to a live worker, which resumes the request from its
// journal (or the sweep from its cursor). A job whose process still beats
// is never touched, however long it runs. Every replica runs the lifeline;
// the rescue is one guarded UPDATE, so two replicas never rescue one job
// twice.
type lifeline struct {
	db        *state.DB
	procs     *state.Processes
	self      state.Process
	every     time.Duration
	exclusive bool
	log       *slog.Logger

	stop chan struct{}
	done sync.WaitGroup
}

// start records the first beat, rescues what dead processes left (when the
// process serves the store alone, everything left running), and keeps
// beating until close.
func (l *lifeline) start(ctx context.Context) error {
	if _, err := l.procs.Beat(ctx, l.self); err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	if l.exclusive {
		if err := l.rescue(ctx, nil); err != nil {
			return err
		}
	} else if err := l.rescueDead(ctx); err != nil {
		return err
	}
	l.stop = make(chan struct{})
	l.done.Add(1)
	go l.loop(context.WithoutCancel(ctx))
	return nil
}

func (l *lifeline) loop(ctx context.Context) {
	defer l.done.Done()
	t := time.NewTicker(l.every)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		lapsed, err := l.procs.Beat(ctx, l.self)
		switch {
		case err != nil:
			l.log.Warn("heartbeat not recorded; other replicas take this process for dead if it lasts", "process", l.self.ID, "error", err)
			continue
		case lapsed:
			l.log.Error("this process's heartbeat had lapsed: its running requests may have been resumed by another replica",
				"process", l.self.ID)
		}
		if err := l.rescueDead(ctx); err != nil {
			l.log.Warn("rescue of dead processes' jobs failed; retrying at the next beat", "error", err)
		}
		if n%720 == 0 {
			if err := l.procs.Forget(ctx, forgetAfter); err != nil {
				l.log.Warn("old process rows not removed", "error", err)
			}
		}
	}
}

// close stops beating and, once the process holds no running job, removes
// its row: a process that stopped cleanly is neither live nor stale in
// lethe_processes_live and lethe_processes_stale. A row whose jobs are
// still running stays, so that a live process rescues them at once.
func (l *lifeline) close() {
	if l.stop != nil {
		close(l.stop)
		l.done.Wait()
		l.stop = nil
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := l.leave(ctx); err != nil {
			l.log.Warn("process row not removed at stop; it counts as stale until forgotten", "process", l.self.ID, "error", err)
		}
	}
}

// leave deletes this process's row unless River still records one of its
// jobs running.
func (l *lifeline) leave(ctx context.Context) error {
	q := `DELETE FROM lethe_processes WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM river_job
		WHERE state = 'running' AND attempted_by[array_length(attempted_by, 1)] = $1)`
	if l.db.Dialect != state.Postgres {
		q = `DELETE FROM lethe_processes WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM river_job
		WHERE state = 'running' AND json_extract(attempted_by, '$[#-1]') = ?1)`
	}
	if _, err := l.db.SQL.ExecContext(ctx, q, l.self.ID); err != nil {
		return fmt.Errorf("queue: remove the row of process %s: %w", l.self.ID, err)
	}
	return nil
}

// rescueDead rescues the running jobs of every dead process.
func (l *lifeline) rescueDead(ctx context.Context) error {
	dead, err := l.procs.Dead(ctx, l.self.ID)
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	for _, id := range dead {
		if err := l.rescue(ctx, &id); err != nil {
			return err
		}
	}
	return nil
}

// rescue makes available again, with an attempt error saying why, the jobs
// running on process owner, or every running job when owner is nil (only
// when this process alone serves the store). The state and owner are
// checked in the UPDATE itself, so a job meanwhile picked up by a live
// worker is left alone.
func (l *lifeline) rescue(ctx context.Context, owner *string) error {
	msg := "worker process stopped heartbeating; resumed by a live process"
	var q string
	args := []any{msg}
	if l.db.Dialect == state.Postgres {
		q = `UPDATE river_job SET state = 'available', scheduled_at = now(),
			errors = array_append(errors, jsonb_build_object('at', now(), 'attempt', attempt, 'error', $1::text, 'trace', ''))
			WHERE state = 'running'`
		if owner != nil {
			q += ` AND attempted_by[array_length(attempted_by, 1)] = $2`
			args = append(args, *owner)
		}
	} else {
		q = `UPDATE river_job SET state = 'available', scheduled_at = datetime('now', 'subsec'),
			errors = jsonb_insert(coalesce(errors, jsonb('[]')), '$[#]',
				json_object('at', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'attempt', attempt, 'error', ?, 'trace', ''))
			WHERE state = 'running'`
		if owner != nil {
			q += ` AND json_extract(attempted_by, '$[#-1]') = ?`
			args = append(args, *owner)
		}
	}
	if err := l.resign(ctx, owner); err != nil {
		return err
	}
	rows, err := l.db.SQL.QueryContext(ctx, q+` RETURNING id, kind`, args...)
	if err != nil {
		return fmt.Errorf("queue: rescue jobs of a dead process: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var kind string
		if err := rows.Scan(&id, &kind); err != nil {
			return fmt.Errorf("queue: rescue jobs of a dead process: %w", err)
		}
		from := "a previous process"
		if owner != nil {
			from = *owner
		}
		l.log.Warn("job of a dead process resumed", "job", id, "kind", kind, "dead_process", from, "process", l.self.ID)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("queue: rescue jobs of a dead process: %w", err)
	}
	return nil
}

// resign ends the leadership of dead process owner (of any process but
// this one when owner is nil), so that a live process is elected at its
// next attempt, within seconds, rather than after the dead leader's term
// runs out: the leader's own work (schedules, periodic jobs) goes on.
func (l *lifeline) resign(ctx context.Context, owner *string) error {
	q, arg := `DELETE FROM river_leader WHERE leader_id <> ?`, l.self.ID
	if owner != nil {
		q, arg = `DELETE FROM river_leader WHERE leader_id = ?`, *owner
	}
	if l.db.Dialect == state.Postgres {
		q = strings.Replace(q, "?", "$1", 1)
	}
	if _, err := l.db.SQL.ExecContext(ctx, q, arg); err != nil {
		return fmt.Errorf("queue: end a dead process's leadership: %w", err)
	}
	return nil
}
