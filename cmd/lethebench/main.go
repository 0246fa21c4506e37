// Command lethebench measures Lethe's erasure against a raw-SQL baseline
// doing the same deletes, on identical data in the same run, against the
// real Postgres (LETHE_TEST_POSTGRES_URL or the local default). It creates
// its own schemas and drops them. It prints one line per benchmark:
//
//	bench: NAME ratio=R key=value…
//
// where ratio is Lethe's time over the baseline's (the median of -reps
// runs; erasure_mongo against raw deleteMany calls on a MongoDB-wire
// server, LETHE_TEST_MONGO_URI or FerretDB on 127.0.0.1:27017), and
// erasure_heavy reports the process's peak heap growth while
// Lethe erased.
package main

import (
	"cmp"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for the baseline

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "lethebench:", err)
		os.Exit(1)
	}
}

type bench struct {
	base  string
	admin *sql.DB
	reg   *registry.Registry
	reps  int
	batch int
	only  string
	state *letheState // Lethe's own state store, shared by the benchmarks
	// app counts the statements the engine sends to the application's
	// store (printed with the state store's under -show-statements).
	app statements
}

func run() error {
	b := &bench{base: cmp.Or(os.Getenv("LETHE_TEST_POSTGRES_URL"), "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), app: statements{name: "app"}}
	flag.IntVar(&b.reps, "reps", 3, "runs per benchmark; the median ratio is reported")
	flag.StringVar(&b.only, "run", "", "run only the benchmark with this name")
	flag.IntVar(&b.batch, "batch", engine.DefaultBatchSize, "rows per delete batch")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if b.only == "" || strings.HasPrefix(b.only, "redact") {
		// Redaction needs no database: its lines come first.
		if err := runRedactBench(os.Stdout); err != nil {
			return fmt.Errorf("redact: %w", err)
		}
		if b.only != "" {
			return nil
		}
	}
	var err error
	if b.reg, err = registry.Parse([]byte(benchRegistry)); err != nil {
		return err
	}
	if b.admin, err = sql.Open("pgx", b.base); err != nil {
		return err
	}
	defer b.admin.Close()
	ctx := context.Background()
	if b.state, err = b.openState(ctx); err != nil {
		return fmt.Errorf("state store: %w", err)
	}
	defer b.state.drop()
	for _, bm := range []struct {
		name string
		fn   func(context.Context) (string, error)
	}{{"erasure_heavy", b.heavy}, {"erasure_many", b.many}, {"retention_purge", b.retentionPurge},
		{"retention_purge_tenants", b.retentionTenants}, {"retention_purge_mariadb", b.retentionMariaDB},
		{"access_heavy", b.accessHeavy}, {"erasure_mongo", b.mongoErasure}, {"throughput_replicas", b.replicas},
		{"mentions_scan", b.mentionsScan}} {
		if b.only != "" && b.only != bm.name {
			continue
		}
		line, err := bm.fn(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", bm.name, err)
		}
		fmt.Printf("bench: %s %s\n", bm.name, line)
	}
	return nil
}

// pair creates two identical datasets, one for the baseline and one for
// Lethe, and returns a function dropping both.
func (b *bench) pair(ctx context.Context, s shape) (base, lethe *dataset, drop func(), err error) {
	id := strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	drop = func() {
		for _, sch := range []string{"lethebench_base_" + id, "lethebench_lethe_" + id} {
			b.admin.ExecContext(context.Background(), "DROP SCHEMA IF EXISTS "+sch+" CASCADE")
		}
	}
	if base, err = create(ctx, b.admin, b.base, "lethebench_base_"+id, s); err == nil {
		lethe, err = create(ctx, b.admin, b.base, "lethebench_lethe_"+id, s)
	}
	if err != nil {
		drop()
	}
	return base, lethe, drop, err
}

// engineFor opens the Lethe side of a dataset.
func (b *bench) engineFor(ctx context.Context, d *dataset) (*engine.Engine, *sqlstore.Store, error) {
	st, err := sqlstore.Open("app", registry.DriverPostgres, withApp(d.url, d.schema))
	if err != nil {
		return nil, nil, err
	}
	if err := st.Ping(ctx); err != nil {
		st.Close()
		return nil, nil, err
	}
	st.DB().Logger = &b.app
	eng := engine.New(b.reg, map[string]connector.Store{"app": st}, dsr.NewSubjectHasher([]byte("bench")))
	eng.BatchSize = b.batch
	return eng, st, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }
