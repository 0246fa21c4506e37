package retention

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/batch"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/redact"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Defaults of a Sweeper's bounds, what lethebench's retention_purge was
// tuned with on Postgres (a fifth of 1,000,000 messages expired): batches
// aimed at 100 ms and of at most 50,000 rows, so that the slowest stays
// under 250 ms and single-row inserts by other connections within 5× their
// idle p99, the whole sweep aimed at 1.3× one unbatched DELETE (on
// Postgres it takes more: the page walk reads every row where the DELETE
// reads the expired ones through the cut-off's index); on MariaDB, with
// 5,000,000 messages, the same sweep took 0.80× the DELETE, its slowest
// batch 184 ms (README, Performance).
const (
	DefaultBatchSize    = 50000
	DefaultBatchTarget  = 100 * time.Millisecond
	DefaultBatchTimeout = 30 * time.Second
	DefaultPause        = 10 * time.Millisecond
	DefaultStaleAfter   = 10 * time.Minute
)

// Sweeper runs retention sweeps. Set the fields, then call Run; the zero
// values of the bounds take the defaults above (BatchSize: the registry's
// retention.batch_size, else DefaultBatchSize).
type Sweeper struct {
	Registry *registry.Registry
	// Stores holds one Store per sql store of the registry, by name.
	Stores   map[string]Store
	Engine   Engine
	Runs     RunLog
	Holds    HoldStore
	Settings SettingsStore
	// Files deletes the files of purged rows; nil leaves them pending.
	Files FileDeleter
	// Redactors gives each tenant's pseudonyms for the redact action;
	// required when the registry has redact_after rules.
	Redactors *redact.Keyring
	Observer  Observer // nil: no metrics
	// Progress, when set, is called after every batch with the run so far.
	Progress func(r *Run)
	Now      func() time.Time
	Logger   *slog.Logger

	BatchSize int // the most rows a batch deletes
	// BatchTarget is how long a batch should take: the sweep sizes its
	// batches by how long the last one took (pkg/batch Loop.Target);
	// negative: fixed sizes.
	BatchTarget  time.Duration
	BatchTimeout time.Duration // bounds one batch's statement
	// Pause is the mean (jittered) pause between batches, so other
	// writers get the table; negative: none. A range walk (RangeStore)
	// pauses only after a slice that took longer than BatchTarget.
	Pause time.Duration
	// Sleep, when set, replaces the timer of the pauses (tests).
	Sleep      func(ctx context.Context, d time.Duration) error
	StaleAfter time.Duration // a running run without progress this long is dead
}

// Options says what run to make.
type Options struct {
	// ID is a queued run to start (see RunLog.Begin); "" for a new one.
	ID string
	// Kind of a new run: KindRetention ("") or KindResponses.
	Kind    string
	DryRun  bool
	Trigger string
	Actor   string
}

func (s *Sweeper) validate() error {
	switch {
	case s.Registry == nil || s.Runs == nil || s.Holds == nil || s.Settings == nil || s.Engine == nil:
		return errors.New("retention: Sweeper needs Registry, Stores, Engine, Runs, Holds and Settings")
	case s.BatchSize < 0 || s.BatchTimeout < 0:
		return errors.New("retention: Sweeper.BatchSize and BatchTimeout must not be negative")
	}
	for _, name := range s.Registry.CollectionStores() {
		if s.Stores[name] == nil {
			return dsr.Errorf(dsr.EUNPROCESSABLE, "store %s of the registry is not configured", name)
		}
	}
	for _, c := range s.Registry.Order() {
		if c.Retention != nil && c.Retention.RedactAfter > 0 && s.Redactors == nil {
			return dsr.Errorf(dsr.EUNPROCESSABLE, "collection %s: retention.redact_after needs a redaction key (LETHE_SUBJECT_KEY)", c.Key)
		}
	}
	return nil
}

func (s *Sweeper) batchSize() int {
	return cmp.Or(s.BatchSize, s.Registry.Schedule.BatchSize, DefaultBatchSize)
}
func (s *Sweeper) batchTimeout() time.Duration { return cmp.Or(s.BatchTimeout, DefaultBatchTimeout) }
func (s *Sweeper) staleAfter() time.Duration   { return cmp.Or(s.StaleAfter, DefaultStaleAfter) }
func (s *Sweeper) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}
func (s *Sweeper) logger() *slog.Logger { return cmp.Or(s.Logger, slog.Default()) }

// Run runs one sweep to its end and returns the recorded run. A real run
// first resumes the latest interrupted one (RunLog.Begin); a dry run
// counts what a real run would do and changes nothing.
//
// Errors: ECONFLICT while another real run is running (nothing is
// recorded); ErrTakenOver when another process took the run over meanwhile
// (this one stopped, recording nothing more); a run that starts and then fails is recorded as failed with
// its error, progress and cursor, and returned together with the error,
// which names the store and collection. A cancelled ctx interrupts the run
// after the batch in flight; it is recorded as failed and resumed next time.
func (s *Sweeper) Run(ctx context.Context, o Options) (*Run, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	run, err := s.Runs.Begin(ctx, Begin{ID: o.ID, Kind: cmp.Or(o.Kind, KindRetention), DryRun: o.DryRun, Trigger: cmp.Or(o.Trigger, TriggerAPI),
		Actor: cmp.Or(o.Actor, "lethe"), Now: s.now(), StaleAfter: s.staleAfter(), RegistryVersion: s.Registry.Version()})
	if err != nil {
		return nil, err
	}
	log := s.logger().With("run", run.ID, "kind", run.Kind, "dry_run", run.DryRun)
	log.Info("retention sweep started", "as_of", run.AsOf, "resumes", run.Resumes)
	err = s.sweep(ctx, run)
	if errors.Is(err, ErrTakenOver) {
		log.Warn("retention sweep taken over by another process; this one stops", "error", err)
		return run, err
	}
	fin := context.WithoutCancel(ctx)
	now := s.now()
	run.FinishedAt = &now
	run.Status = StatusCompleted
	if err != nil {
		run.Status, run.Err = StatusFailed, runError(err)
		log.Error("retention sweep failed", "code", run.Err.Code, "error", err)
	} else {
		run.Cursor = Cursor{}
		tot := run.Totals()
		log.Info("retention sweep completed", "rows_purged", tot.RowsPurged, "rows_redacted", tot.RowsRedacted, "rows_held", tot.RowsHeld)
	}
	if ferr := s.Runs.Finish(fin, run); ferr != nil {
		return run, errors.Join(err, fmt.Errorf("record run %s: %w", run.ID, ferr))
	}
	if s.Observer != nil {
		s.Observer.Finished(run)
	}
	return run, err
}

// runError is what a run records: the coded error, or a message that
// names where it failed without the driver's text (which may quote values).
func runError(err error) *dsr.Error {
	var se *stepError
	where := ""
	if errors.As(err, &se) {
		where = se.where + ": "
	}
	switch code := dsr.ErrorCode(err); {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return dsr.Errorf(dsr.EUNAVAILABLE, "%sinterrupted (cancelled or timed out); the next run resumes here", where)
	case code != dsr.EINTERNAL:
		return dsr.Errorf(code, "%s%s", where, dsr.ErrorMessage(err))
	}
	return dsr.Errorf(dsr.EINTERNAL, "%sfailed; see the service log; the next run resumes here", where)
}

// stepError names the collection a sweep failed on.
type stepError struct {
	where string
	err   error
}

func (e *stepError) Error() string { return e.where + ": " + e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

// sweep plans the run's units and works through them.
func (s *Sweeper) sweep(ctx context.Context, run *Run) error {
	p, err := s.plan(ctx, run.AsOf)
	if err != nil {
		return err
	}
	units := p.units()
	if run.Kind == KindResponses {
		tenants, err := s.Settings.NotCollecting(ctx)
		if err != nil {
			return fmt.Errorf("read tenant settings: %w", err)
		}
		units = p.responseUnits(tenants)
	}
	if len(p.skipped) > 0 {
		s.logger().Warn("retention: children in other stores are not purged with their parents; give them a rule of their own",
			"collections", p.skipped)
	}
	if run.DryRun {
		return s.dryRun(ctx, run, units)
	}
	for _, u := range units {
		if run.Cursor.done(u.key) {
			continue
		}
		if run.Cursor.Unit != u.key {
			run.Cursor.Unit, run.Cursor.After, run.Cursor.AfterKey = u.key, nil, nil
		}
		if err := s.work(ctx, run, u); err != nil {
			return err
		}
		run.Cursor.Done = append(run.Cursor.Done, u.key)
		run.Cursor.Unit, run.Cursor.After, run.Cursor.AfterKey = "", nil, nil
		if err := s.save(ctx, run, nil); err != nil {
			return err
		}
	}
	return nil
}

// plan reads the overrides and holds and returns the run's planner.
func (s *Sweeper) plan(ctx context.Context, asOf time.Time) (*planner, error) {
	overrides, err := s.Settings.Overrides(ctx)
	if err != nil {
		return nil, fmt.Errorf("read tenant overrides: %w", err)
	}
	p := &planner{reg: s.Registry, asOf: asOf, overrides: overrides, holds: map[string][]connector.Selection{}}
	holds, err := s.Holds.Holds(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("read legal holds: %w", err)
	}
	sort.Slice(holds, func(i, j int) bool { return holds[i].ID < holds[j].ID })
	for _, h := range holds {
		if h.Subject != "" {
			if h.Email == "" {
				continue // released meanwhile
			}
			rows, err := s.Engine.SubjectRows(ctx, h.Email, h.Tenant)
			if err != nil {
				return nil, &stepError{where: "hold " + h.ID, err: err}
			}
			for key, sel := range rows {
				p.holds[key] = append(p.holds[key], sel)
			}
			continue
		}
		for _, c := range s.Registry.Order() {
			if sel := connector.InTenant(p.reg, c, h.Tenant); sel != nil {
				p.holds[c.Key] = append(p.holds[c.Key], *sel)
			}
		}
	}
	return p, nil
}

// save records progress; it outlives ctx so a committed batch is counted.
func (s *Sweeper) save(ctx context.Context, run *Run, files []File) error {
	now := s.now()
	run.HeartbeatAt = &now
	if err := s.Runs.Save(context.WithoutCancel(ctx), run, files); err != nil {
		return fmt.Errorf("record progress of run %s: %w", run.ID, err)
	}
	if s.Progress != nil {
		s.Progress(run)
	}
	return nil
}

// loop returns the batch loop of a unit: size rows (or pages) per batch,
// the Sweeper's timeout and pause.
func (s *Sweeper) loop(size int) *batch.Loop {
	return &batch.Loop{Size: size, Timeout: s.batchTimeout(), Pause: cmp.Or(s.Pause, DefaultPause), Sleep: s.Sleep,
		Target: cmp.Or(s.BatchTarget, DefaultBatchTarget)}
}
