package main

import (
	"cmp"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/retention"
)

const insertEvery = 2 * time.Millisecond

var (
	retentionBatch = flag.Int("retention-batch", retention.DefaultBatchSize, "rows per retention batch")
	retentionPause = flag.Duration("retention-pause", retention.DefaultPause, "pause between retention batches")
	retentionRows  = flag.Int("retention-rows", 5_000_000, "messages in the retention dataset; a fifth of them expired")
)

// retentionRegistry is benchRegistry on any driver, its messages purged
// 30 days after created_at instead of read as JSON.
var retentionRegistry = strings.NewReplacer(
	"driver: postgres", "driver: %s",
	`    json: {body: ["author.email", "parts[*].text"]}`, "    retention: {window: 30d, timestamp: created_at}",
).Replace(benchRegistry)

// retentionNow is the sweeps' injected now; ages run from 0 to 37.5 days
// before it, so a fifth of the messages are older than the 30-day window.
var retentionNow = time.Date(2025, 6, 1, 3, 0, 0, 0, time.UTC)

// retentionPurge: 1,000,000 expired messages among 5,000,000. Lethe's
// sweep (batched, cursor, state saved per batch) against one raw DELETE on
// an identical copy; the p99 of Lethe's batches; and the p99 latency of
// single-row inserts by another connection during the sweep over the same
// inserts while the table is idle.
func (b *bench) retentionPurge(ctx context.Context) (string, error) {
	return b.retentionOn(ctx, postgresTarget(b))
}

// retentionTenants is retentionPurge with chats in studios (a tenant
// column on chats, none on messages): the sweep counts each purged
// message under its chat's studio; the baseline is the same raw DELETE.
func (b *bench) retentionTenants(ctx context.Context) (string, error) {
	tg := postgresTarget(b)
	tg.registry = retentionTenantsRegistry
	tg.create = func(ctx context.Context, schema string, n int) (string, error) {
		return b.retentionData(ctx, schema, n, retentionStudios...)
	}
	return b.retentionOn(ctx, tg)
}

// retentionTenantsRegistry is retentionRegistry with chats scoped to a
// studio.
var retentionTenantsRegistry = strings.Replace(retentionRegistry,
	"  app.chats:\n", "  app.chats:\n    tenant: studio_id\n", 1)

// retentionStudios puts the retention dataset's chats in 50 studios.
var retentionStudios = []string{
	`ALTER TABLE chats ADD COLUMN studio_id TEXT`,
	`UPDATE chats SET studio_id = 'studio-' || (id % 50)`,
	`VACUUM ANALYZE chats`,
}

// retentionMariaDB is retentionPurge on MariaDB.
func (b *bench) retentionMariaDB(ctx context.Context) (string, error) {
	return b.retentionOn(ctx, mariadbTarget())
}

// retentionOn runs a retention line -reps times, each on fresh copies of
// the data, and prints the run of median ratio whole, then every run's
// ratio and the worst batch and insert figures of all of them: one run's
// ratio moves with the machine's load by more than a change measured.
func (b *bench) retentionOn(ctx context.Context, tg *retentionTarget) (string, error) {
	var runs []retentionRun
	for range max(1, b.reps) {
		r, err := b.retentionOnce(ctx, tg)
		if err != nil {
			return "", err
		}
		runs = append(runs, r)
	}
	slices.SortStableFunc(runs, func(x, y retentionRun) int { return cmp.Compare(x.ratio, y.ratio) })
	var ratios []string
	var worstBatch time.Duration
	var worstInserts float64
	for _, r := range runs {
		ratios = append(ratios, fmt.Sprintf("%.2f", r.ratio))
		worstBatch, worstInserts = max(worstBatch, r.p99Batch), max(worstInserts, r.insertRatio)
	}
	return runs[len(runs)/2].line + fmt.Sprintf(" reps=%d ratios=%s p99_batch_ms_max=%s insert_p99_ratio_max=%.2f",
		len(runs), strings.Join(ratios, ","), ms(worstBatch), worstInserts), nil
}

// retentionRun is one run of a retention line: its printed figures and
// those retentionOn compares across runs.
type retentionRun struct {
	line        string
	ratio       float64
	p99Batch    time.Duration
	insertRatio float64
}

// retentionOnce runs a retention line once, on fresh copies of the data.
func (b *bench) retentionOnce(ctx context.Context, tg *retentionTarget) (retentionRun, error) {
	id := strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	base, lethe := "lethebench_rbase_"+id, "lethebench_rlethe_"+id
	defer func() {
		for _, s := range []string{base, lethe} {
			tg.drop(s)
		}
	}()
	n := *retentionRows
	baseURL, err := tg.create(ctx, base, n)
	if err != nil {
		return retentionRun{}, err
	}
	letheURL, err := tg.create(ctx, lethe, n)
	if err != nil {
		return retentionRun{}, err
	}
	cutoff := retentionNow.Add(-30 * 24 * time.Hour)

	// The baseline: one statement.
	baseApp, sweepApp := "lethebench_base_"+id, "lethebench_sweep_"+id
	bdb, err := sql.Open(tg.sqlDriver, tg.named(baseURL, baseApp))
	if err != nil {
		return retentionRun{}, err
	}
	defer bdb.Close()
	if err := tg.checkpoint(ctx, bdb); err != nil {
		return retentionRun{}, err
	}
	cpu0, _, err := tg.cpu(ctx, baseApp)
	if err != nil {
		return retentionRun{}, err
	}
	start := time.Now()
	res, err := bdb.ExecContext(ctx, tg.sql("DELETE FROM messages WHERE created_at < $1"), cutoff)
	if err != nil {
		return retentionRun{}, err
	}
	tb := time.Since(start)
	baseRows, _ := res.RowsAffected()
	baseCPU, cpuOK, err := tg.cpu(ctx, baseApp)
	if err != nil {
		return retentionRun{}, err
	}
	baseCPU -= cpu0

	// Lethe: idle insert latency first, then the sweep with the same inserts.
	ldb, err := sql.Open(tg.sqlDriver, letheURL)
	if err != nil {
		return retentionRun{}, err
	}
	defer ldb.Close()
	inserter := &inserter{db: ldb, next: int64(n) + 1, insert: tg.sql(`INSERT INTO messages (id, chat_id, body, created_at) VALUES ($1, $2, 'a new message', $3)`)}
	idle, err := inserter.run(ctx, 1000, nil)
	if err != nil {
		return retentionRun{}, err
	}
	settleStart := time.Now()
	if err := tg.checkpoint(ctx, ldb); err != nil {
		return retentionRun{}, err
	}
	settled := time.Since(settleStart)
	sw, batches, cleanup, err := b.retentionSweeper(ctx, cmp.Or(tg.registry, retentionRegistry), tg.driver, tg.named(letheURL, sweepApp))
	if err != nil {
		return retentionRun{}, err
	}
	defer cleanup()
	stop := make(chan struct{})
	var busy []time.Duration
	var ierr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		busy, ierr = inserter.run(ctx, 1<<30, stop)
	}()
	start, self0 := time.Now(), selfCPU()
	run, err := sw.Run(ctx, retention.Options{Trigger: retention.TriggerCLI, Actor: "bench"})
	tl, selfUsed := time.Since(start), selfCPU()-self0
	close(stop)
	wg.Wait()
	if err != nil {
		return retentionRun{}, err
	}
	sweepCPU, _, err := tg.cpu(ctx, sweepApp)
	if err != nil {
		return retentionRun{}, err
	}
	if ierr != nil {
		return retentionRun{}, ierr
	}
	if got := run.Totals().RowsPurged; got != baseRows {
		return retentionRun{}, fmt.Errorf("lethe purged %d rows, the baseline %d", got, baseRows)
	}
	var left int64
	if err := ldb.QueryRowContext(ctx, tg.sql("SELECT count(*) FROM messages WHERE created_at < $1"), cutoff).Scan(&left); err != nil || left != 0 {
		return retentionRun{}, fmt.Errorf("lethe left %d expired rows (%v)", left, err)
	}
	bt := batches.durations()
	out := retentionRun{ratio: float64(tl) / float64(tb), p99Batch: p99(bt), insertRatio: float64(p99(busy)) / float64(p99(idle))}
	line := fmt.Sprintf("ratio=%.2f p99_batch_ms=%s insert_p99_ratio=%.2f lethe_ms=%s baseline_ms=%s rows=%d batches=%d batch_size=%d pause_ms=%s insert_p99_idle_ms=%s insert_p99_sweep_ms=%s inserts_during=%d",
		out.ratio, ms(out.p99Batch), out.insertRatio, ms(tl), ms(tb), baseRows, len(bt),
		*retentionBatch, ms(*retentionPause), ms(p99(idle)), ms(p99(busy)), len(busy))
	var inBatches time.Duration
	for _, d := range bt {
		inBatches += d
	}
	// The sweep's time in its delete statements: the rest is its own
	// (state saves, pauses, planning).
	line += fmt.Sprintf(" batches_ms=%s", ms(inBatches))
	if tg.settle != nil {
		// The wait for the server's background work on the baseline's
		// DELETE before the sweep, which the baseline's time leaves out.
		line += fmt.Sprintf(" settle_ms=%s", ms(settled))
	}
	if cpuOK && baseCPU > 0 {
		// CPU time, which load on the machine does not inflate: the server's
		// for the sweep over the baseline's, and Lethe's own (with the
		// inserter's) beside it.
		line += fmt.Sprintf(" server_cpu_ratio=%.2f server_cpu_ms=%s baseline_server_cpu_ms=%s lethe_cpu_ms=%s",
			float64(sweepCPU)/float64(baseCPU), ms(sweepCPU), ms(baseCPU), ms(selfUsed))
	}
	out.line = line
	return out, nil
}

// retentionData creates schema with users, chats and n messages, a fifth
// of them older than 30 days, spread through the table (Postgres), then
// runs then.
func (b *bench) retentionData(ctx context.Context, schema string, n int, then ...string) (string, error) {
	if _, err := b.admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", err
	}
	u, err := urlWithSchema(b.base, schema)
	if err != nil {
		return "", err
	}
	db, err := sql.Open("pgx", u)
	if err != nil {
		return "", err
	}
	defer db.Close()
	for _, stmt := range append([]string{
		`CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL)`,
		`CREATE TABLE chats (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES users(id))`,
		`CREATE TABLE messages (id BIGINT PRIMARY KEY, chat_id BIGINT NOT NULL REFERENCES chats(id), body TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL)`,
		`INSERT INTO users SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 100) g`,
		`INSERT INTO chats SELECT g, 1 + g % 100 FROM generate_series(1, 10000) g`,
		fmt.Sprintf(`INSERT INTO messages SELECT g, 1 + g %% 10000, 'hello, this is message ' || g,
			TIMESTAMPTZ '%s' - ((g::bigint * 7919) %% %d) * (INTERVAL '37.5 days' / %d)
			FROM generate_series(1, %d) g`, retentionNow.Format(time.RFC3339), n, n, n),
		`CREATE INDEX messages_chat_id ON messages (chat_id)`,
		`CREATE INDEX messages_created_at ON messages (created_at)`,
		`VACUUM ANALYZE users`, `VACUUM ANALYZE chats`, `VACUUM ANALYZE messages`,
	}, then...) {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return "", fmt.Errorf("%s: %s: %w", schema, strings.SplitN(strings.TrimSpace(stmt), "\n", 2)[0], err)
		}
	}
	return u, nil
}

// retentionSweeper builds a Sweeper with registry regYAML (its driver a
// %s) over the dataset at url with its own SQLite state store, and a
// recorder of its batch times.
func (b *bench) retentionSweeper(ctx context.Context, regYAML, driver, dsn string) (*retention.Sweeper, *batchTimes, func(), error) {
	reg, err := registry.Parse([]byte(fmt.Sprintf(regYAML, driver)))
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := sqlstore.Open("app", driver, dsn)
	if err != nil {
		return nil, nil, nil, err
	}
	dir, err := os.MkdirTemp("", "lethebench-state")
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	db, err := state.Open(ctx, "sqlite://"+filepath.Join(dir, "state.db"))
	if err != nil {
		st.Close()
		os.RemoveAll(dir)
		return nil, nil, nil, err
	}
	hasher := dsr.NewSubjectHasher([]byte("bench-subject-key-0123456789abcdef"))
	audit := &state.AuditLog{DB: db}
	times := &batchTimes{}
	sw := &retention.Sweeper{Registry: reg, Stores: map[string]retention.Store{"app": st},
		Engine: engine.New(reg, map[string]connector.Store{"app": st}, hasher),
		Runs:   &state.RetentionRuns{DB: db, Audit: audit, Subject: hasher}, Holds: &state.Holds{DB: db, Audit: audit},
		Settings: &state.TenantSettings{DB: db, Audit: audit}, Observer: times,
		Now: func() time.Time { return retentionNow }, BatchSize: *retentionBatch, Pause: *retentionPause,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))}
	if *retentionPause == 0 {
		sw.Pause = -1
	}
	return sw, times, func() { st.Close(); db.Close(); os.RemoveAll(dir) }, nil
}

// batchTimes records batch durations (retention.Observer).
type batchTimes struct {
	mu sync.Mutex
	d  []time.Duration
}

func (t *batchTimes) Batch(_ string, _, _ int64, took time.Duration) {
	t.mu.Lock()
	t.d = append(t.d, took)
	t.mu.Unlock()
}
func (t *batchTimes) Finished(*retention.Run) {}
func (t *batchTimes) durations() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.d)
}

// inserter makes single-row inserts, one at a time and one every
// insertEvery (500 a second), as a busy application would while the sweep
// runs. A tight loop would instead measure a core taken from the sweep on
// a small machine.
type inserter struct {
	db     *sql.DB
	next   int64
	insert string // the statement, with parameters id, chat_id, created_at
}

// run inserts up to count rows, or until stop closes, and returns each
// insert's latency.
func (in *inserter) run(ctx context.Context, count int, stop chan struct{}) ([]time.Duration, error) {
	var out []time.Duration
	for i := 0; i < count; i++ {
		if stop != nil {
			select {
			case <-stop:
				return out, nil
			default:
			}
		}
		if i > 0 {
			time.Sleep(insertEvery)
		}
		id := in.next
		in.next++
		start := time.Now()
		if _, err := in.db.ExecContext(ctx, in.insert, id, 1+id%10000, retentionNow); err != nil {
			return out, err
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

func p99(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*99/100)]
}

// urlWithSchema returns base with search_path set to schema.
func urlWithSchema(base, schema string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
