package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pressly/goose/v3"

	"github.com/lethe-privacy/lethe/pkg/demo"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testdb"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// migrationVersions returns the versions of the migration files of
// dialect, read from the source tree rather than through the binary.
func migrationVersions(t *testing.T, dialect string) []int64 {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("..", "..", "pkg", "state", "migrations", dialect))
	if err != nil || len(entries) < 5 {
		t.Fatalf("migrations of %s: %v (%d files)", dialect, err, len(entries))
	}
	var out []int64
	for _, e := range entries {
		num, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// rawState opens the state store at url with database/sql, not through
// Lethe.
func rawState(t *testing.T, url string) (*sql.DB, string) {
	t.Helper()
	driver, dsn, dialect := "pgx", url, state.Postgres
	if path, ok := strings.CutPrefix(url, "sqlite://"); ok {
		driver, dsn, dialect = "sqlite", path, state.SQLite
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dialect
}

// migrateTo brings the store at url to migration level, as an earlier
// Lethe whose newest migration was level left it.
func migrateTo(t *testing.T, url string, level int64) {
	t.Helper()
	db, dialect := rawState(t, url)
	gd := goose.DialectPostgres
	if dialect == state.SQLite {
		gd = goose.DialectSQLite3
	}
	p, err := goose.NewProvider(gd, db, os.DirFS(filepath.Join("..", "..", "pkg", "state", "migrations", dialect)),
		goose.WithTableName(state.VersionTable), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(context.Background(), level); err != nil {
		t.Fatalf("migrate to %d: %v", level, err)
	}
}

// applied returns how many times each version is recorded as applied.
func applied(t *testing.T, url string) map[int64]int {
	t.Helper()
	db, _ := rawState(t, url)
	rows, err := db.Query("SELECT version_id, count(*) FROM " + state.VersionTable + " WHERE version_id > 0 AND is_applied GROUP BY version_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var v int64
		var n int
		if err := rows.Scan(&v, &n); err != nil {
			t.Fatal(err)
		}
		out[v] = n
	}
	return out
}

func wantEachAppliedOnce(t *testing.T, url, dialect string) {
	t.Helper()
	got := applied(t, url)
	versions := migrationVersions(t, dialect)
	if len(got) != len(versions) {
		t.Errorf("%s records %v; want each of %v once", state.VersionTable, got, versions)
	}
	for _, v := range versions {
		if got[v] != 1 {
			t.Errorf("migration %d recorded %d times; want once", v, got[v])
		}
	}
}

// TestReplicasStartingTogetherMigrateOnce starts four lethe serve
// processes at once on an empty Postgres state database: each migration
// is applied exactly once (the others wait on the migration lock and find
// nothing left to do), every replica serves and is ready, and lethe
// version reports the store current. lethe backup refuses a Postgres
// store, naming pg_dump.
func TestReplicasStartingTogetherMigrateOnce(t *testing.T) {
	url := testdb.Postgres(t)
	c := &cluster{env: append(withoutLetheEnv(), "LETHE_DATABASE_URL="+url, "LETHE_ADMIN_TOKEN="+lifelineAdminToken,
		"LETHE_SUBJECT_KEY=upgrade-test-subject-key-of-32-characters", "LETHE_HEARTBEAT="+testHeartbeat)}
	replicas := c.serveMany(t, 4)
	wantEachAppliedOnce(t, url, state.Postgres)
	for i, s := range replicas {
		if code := s.call(t, "GET", "/readyz", "", nil); code != http.StatusOK {
			t.Errorf("replica %d: /readyz = %d; log:\n%s", i, code, s.stderr.String())
		}
	}
	versions := migrationVersions(t, state.Postgres)
	out := mustRun(t, c.env, binary, "version")
	if want := fmt.Sprintf("state store (postgres) at migration level %d: current", versions[len(versions)-1]); !strings.Contains(out, want) {
		t.Errorf("lethe version:\n%s\nwant %q", out, want)
	}
	file := filepath.Join(t.TempDir(), "lethe.backup")
	if out, code := runCode(c.env, binary, "backup", "--to", file); code != 2 || !strings.Contains(out, "pg_dump --format=custom") {
		t.Errorf("lethe backup of a Postgres store: exit %d\n%s\nwant exit 2 naming the pg_dump command", code, out)
	}
	if _, err := os.Stat(file); err == nil {
		t.Errorf("lethe backup of a Postgres store wrote %s", file)
	}
}

// TestReplicasStartingTogetherAfterACommand: a command run before the
// first deployment (lethe tenants create) migrates Lethe's own tables but
// not the job queue's, which only lethe serve uses; four replicas then
// started at once all reach the queue's migrations together, and must
// still apply them once, each replica serving.
func TestReplicasStartingTogetherAfterACommand(t *testing.T) {
	url := testdb.Postgres(t)
	c := &cluster{env: append(withoutLetheEnv(), "LETHE_DATABASE_URL="+url, "LETHE_ADMIN_TOKEN="+lifelineAdminToken,
		"LETHE_SUBJECT_KEY=upgrade-test-subject-key-of-32-characters", "LETHE_HEARTBEAT="+testHeartbeat)}
	mustRun(t, c.env, binary, "tenants", "create", "--slug", "acme", "--name", "Acme")
	for i, s := range c.serveMany(t, 4) {
		if code := s.call(t, "GET", "/readyz", "", nil); code != http.StatusOK {
			t.Errorf("replica %d: /readyz = %d; log:\n%s", i, code, s.stderr.String())
		}
	}
	wantEachAppliedOnce(t, url, state.Postgres)
	db, _ := rawState(t, url)
	var versions, rows int
	if err := db.QueryRow("SELECT count(DISTINCT version), count(*) FROM river_migration").Scan(&versions, &rows); err != nil || versions == 0 || rows != versions {
		t.Errorf("river_migration holds %d rows for %d versions (%v); want each version once", rows, versions, err)
	}
}

// TestUpgradeFromOlderLevel builds a state store as an earlier Lethe left
// it, four migrations behind, with a completed request in it; lethe
// version reports it behind. The current binary's lethe serve (two
// replicas at once on Postgres) migrates it once, serves the old request
// as it was, and runs a new erasure; lethe version then reports it
// current, and a store migrated further than the binary is reported
// ahead, by lethe version and in the log of lethe serve.
func TestUpgradeFromOlderLevel(t *testing.T) {
	seed := t.TempDir()
	if _, err := demo.Seed(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
	testkit.ForEachState(t, func(t *testing.T, dialect string) {
		url := testkit.StateURL(t, dialect)
		versions := migrationVersions(t, dialect)
		older, newest := versions[len(versions)-5], versions[len(versions)-1]
		migrateTo(t, url, older)
		db, _ := rawState(t, url)
		id, at := uuid.Must(uuid.NewV7()).String(), time.Now().Add(-time.Hour).UTC()
		insert := `INSERT INTO lethe_requests (id, type, status, subject, created_at, updated_at, due_at, finished_at, attempts, counts)
			VALUES (?, 'erasure', 'completed', 'subject-hmac-of-an-earlier-request', ?, ?, ?, ?, 1, '{"app.users":1}')`
		for n := 1; dialect == state.Postgres && strings.Contains(insert, "?"); n++ {
			insert = strings.Replace(insert, "?", "$"+strconv.Itoa(n), 1)
		}
		if _, err := db.Exec(insert, id, at, at, at.Add(30*24*time.Hour), at); err != nil {
			t.Fatal(err)
		}

		a := newApp(t, seed, newHook(t, true).srv.URL, url)
		out := mustRun(t, a.env, binary, "version")
		if want := fmt.Sprintf("state store (%s) at migration level %d: behind this binary (%d); lethe serve migrates it",
			dialect, older, newest); !strings.Contains(out, want) {
			t.Errorf("lethe version on the older store:\n%s\nwant %q", out, want)
		}
		if got := applied(t, url); len(got) != len(versions)-4 {
			t.Fatalf("lethe version migrated the store: %v", got)
		}

		var s *demoServer
		if dialect == state.Postgres {
			s = (&cluster{env: a.env}).serveMany(t, 2)[0]
		} else {
			s = a.serve(t)
		}
		wantEachAppliedOnce(t, url, dialect)
		if r := s.request(t, id); r.Status != "completed" || r.Counts["app.users"] != 1 {
			t.Errorf("the request of the older level reads %+v; want completed, 1 user", r)
		}
		if r := s.waitEnded(t, s.fileErasure(t, "ada@example.com"), 30*time.Second); r.Status != "completed" {
			t.Errorf("an erasure after the upgrade ended %s", r.Status)
		}
		out = mustRun(t, a.env, binary, "version")
		if want := fmt.Sprintf("state store (%s) at migration level %d: current", dialect, newest); !strings.Contains(out, want) {
			t.Errorf("lethe version after the upgrade:\n%s\nwant %q", out, want)
		}

		ahead := `INSERT INTO ` + state.VersionTable + ` (version_id, is_applied) VALUES (9999, true)`
		if _, err := db.Exec(ahead); err != nil {
			t.Fatal(err)
		}
		out = mustRun(t, a.env, binary, "version")
		if want := fmt.Sprintf("state store (%s) at migration level 9999: AHEAD of this binary (%d)", dialect, newest); !strings.Contains(out, want) {
			t.Errorf("lethe version on a store of a newer Lethe:\n%s\nwant %q", out, want)
		}
		if dialect == state.Postgres { // a replica of the older binary starting now warns (SQLite serves one process)
			if log := a.serve(t).stderr.String(); !strings.Contains(log, "the state store is ahead of this binary") {
				t.Errorf("lethe serve on a store of a newer Lethe does not warn:\n%s", log)
			}
		}
	})
}
