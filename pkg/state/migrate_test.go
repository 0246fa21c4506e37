package state_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// embedded returns the versions of the migration files of dialect, read
// from the source tree rather than through the package.
func embedded(t *testing.T, dialect string) (versions []int64, files []string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("migrations", dialect))
	if err != nil || len(entries) == 0 {
		t.Fatalf("migrations of %s: %v (%d files)", dialect, err, len(entries))
	}
	for _, e := range entries {
		num, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			t.Fatalf("migration %s: %v", e.Name(), err)
		}
		versions, files = append(versions, v), append(files, filepath.Join("migrations", dialect, e.Name()))
	}
	return versions, files
}

// recorded returns, for each version in goose's table but 0, how many times
// it is recorded as applied.
func recorded(t *testing.T, db *state.DB) map[int64]int {
	t.Helper()
	var rows []struct {
		VersionID int64
		N         int
	}
	if err := db.Gorm.Raw("SELECT version_id, count(*) AS n FROM " + state.VersionTable +
		" WHERE version_id > 0 AND is_applied GROUP BY version_id").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := map[int64]int{}
	for _, r := range rows {
		out[r.VersionID] = r.N
	}
	return out
}

// wantAllAppliedOnce checks that every embedded migration is recorded
// exactly once, and that the store says so too.
func wantAllAppliedOnce(t *testing.T, db *state.DB, dialect string) {
	t.Helper()
	versions, _ := embedded(t, dialect)
	got := recorded(t, db)
	if len(got) != len(versions) {
		t.Errorf("%s records %v, want each of %v once", state.VersionTable, got, versions)
	}
	for _, v := range versions {
		if got[v] != 1 {
			t.Errorf("version %d recorded %d times, want 1", v, got[v])
		}
	}
	status, err := db.Migrations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range status {
		if !s.Applied || s.Version != versions[i] {
			t.Errorf("migration %d: %+v, want version %d applied", i, s, versions[i])
		}
	}
}

// TestOpenMigratesOnce starts four "replicas" on a fresh store at once,
// then opens it again: all start without error, every migration is recorded
// exactly once and reopening changes nothing.
func TestOpenMigratesOnce(t *testing.T) {
	t.Parallel()
	testkit.ForEachState(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		url := testkit.StateURL(t, dialect)

		var wg sync.WaitGroup
		start := make(chan struct{})
		dbs, errs := make([]*state.DB, 4), make([]error, 4)
		for i := range dbs {
			wg.Go(func() {
				<-start
				dbs[i], errs[i] = state.Open(ctx, url)
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("replica %d: %v", i, err)
			}
			defer dbs[i].Close()
		}
		db := dbs[0]
		wantAllAppliedOnce(t, db, dialect)
		requests := &state.RequestService{DB: db, Subject: dsr.NewSubjectHasher([]byte(subjectKey)),
			Audit:   &state.AuditLog{DB: db},
			Enqueue: func(context.Context, *sql.Tx, string) error { return nil }}
		r, _, err := requests.Create(ctx, admin, dsr.NewRequest{Type: dsr.TypeAccess, Email: "kept@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dbs {
			d.Close()
		}

		again, err := state.Open(ctx, url)
		if err != nil {
			t.Fatalf("second open: %v", err)
		}
		defer again.Close()
		wantAllAppliedOnce(t, again, dialect)
		var heads int64
		again.Gorm.Raw("SELECT count(*) FROM lethe_audit_head").Scan(&heads)
		if heads != 1 {
			t.Errorf("lethe_audit_head has %d rows, want 1", heads)
		}
		requests.DB = again
		if _, err := requests.Get(ctx, admin, r.ID); err != nil {
			t.Errorf("request filed before reopening: %v", err)
		}
	})
}

// TestOpenUpgradesLegacyStore builds a store as Lethe's migrator before
// goose left it, at version 4 with lethe_migrations and a row of data,
// then opens it twice: goose takes over at version 4 without running 1–4
// again (they would fail on existing tables), applies 5, and keeps the data.
// Level reads the legacy level before, and the newest after.
func TestOpenUpgradesLegacyStore(t *testing.T) {
	t.Parallel()
	testkit.ForEachState(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		url := testkit.StateURL(t, dialect)
		versions, files := embedded(t, dialect)
		if len(versions) < 2 {
			t.Fatalf("need two migrations or more, have %v", versions)
		}
		legacy := len(versions) - 1 // all but the last
		raw := openRaw(t, dialect, url)
		mustExec(t, raw, `CREATE TABLE lethe_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)`)
		for i, f := range files[:legacy] {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			mustExec(t, raw, string(body))
			mustExec(t, raw, rebind(dialect, "INSERT INTO lethe_migrations (version, name) VALUES (?, ?)"), versions[i], filepath.Base(f))
		}
		mustExec(t, raw, rebind(dialect, "INSERT INTO lethe_tenant_keys (id, tenant, secret_hash, created_at) VALUES (?, ?, ?, ?)"),
			"key-legacy", "acme", "h", t0)
		raw.Close()

		if carried, err := state.EmbeddedLevel(dialect); err != nil || carried != versions[len(versions)-1] {
			t.Errorf("EmbeddedLevel(%s) = %d, %v; want the newest file's %d", dialect, carried, err, versions[len(versions)-1])
		}
		// Its level, read without migrating: the legacy table's.
		peek, err := state.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		if level, err := peek.Level(ctx); err != nil || level != versions[legacy-1] {
			t.Errorf("level of the legacy store = %d, %v; want %d", level, err, versions[legacy-1])
		}
		peek.Close()

		for round := range 2 {
			db, err := state.Open(ctx, url)
			if err != nil {
				t.Fatalf("open %d of the legacy store: %v", round+1, err)
			}
			wantAllAppliedOnce(t, db, dialect)
			if level, err := db.Level(ctx); err != nil || level != versions[len(versions)-1] {
				t.Errorf("open %d: level %d, %v; want %d", round+1, level, err, versions[len(versions)-1])
			}
			var keys, legacyRows int64
			db.Gorm.Raw("SELECT count(*) FROM lethe_tenant_keys WHERE id = 'key-legacy'").Scan(&keys)
			db.Gorm.Raw("SELECT count(*) FROM lethe_migrations").Scan(&legacyRows)
			if keys != 1 || legacyRows != int64(legacy) {
				t.Errorf("open %d: legacy key rows %d (want 1), lethe_migrations rows %d (want %d)", round+1, keys, legacyRows, legacy)
			}
			db.Close()
		}
	})
}

func openRaw(t *testing.T, dialect, url string) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", url
	if dialect == state.SQLite {
		driver, dsn = "sqlite", strings.TrimPrefix(url, "sqlite://")
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%.60s…: %v", q, err)
	}
}

// rebind turns "?" placeholders into Postgres's $n.
func rebind(dialect, q string) string {
	if dialect != state.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		url  string
		want string
	}{
		{name: "unknown scheme", url: "mysql://root@127.0.0.1/lethe", want: "must start with postgres:// or sqlite://"},
		{name: "postgres not reachable", url: "postgres://postgres@127.0.0.1:1/lethe?sslmode=disable&connect_timeout=2", want: "failed to connect"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db, err := state.Open(context.Background(), tc.url)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}
