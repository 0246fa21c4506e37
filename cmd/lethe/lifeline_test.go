package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/demo"
	"github.com/lethe-privacy/lethe/pkg/testdb"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// The processes of these tests beat every 250ms: a killed one is taken for
// dead after 750ms.
const testHeartbeat = "250ms"

// hook is a processor's webhook that refuses (503) until confirm is set:
// an erasure waits in its last step, notifying, for as long as the test
// wants it running.
type hook struct {
	confirm atomic.Bool
	hits    atomic.Int32
	srv     *httptest.Server
}

func newHook(t *testing.T, confirm bool) *hook {
	h := &hook{}
	h.confirm.Store(confirm)
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		h.hits.Add(1)
		if !h.confirm.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// app is a copy of the seeded demo application with a registry that adds a
// processor, and the environment of the lethe processes that serve it.
type app struct {
	dir      string
	registry string
	env      []string
}

const lifelineAdminToken = "lifeline-admin-token"

// newApp copies the seeded demo in seed to a folder of its own and writes
// its registry, whose processor posts to hookURL.
func newApp(t *testing.T, seed, hookURL, stateURL string) *app {
	t.Helper()
	a := &app{dir: t.TempDir()}
	if err := os.CopyFS(a.dir, os.DirFS(seed)); err != nil {
		t.Fatal(err)
	}
	reg := string(demo.Registry(demoDSNEnv, filepath.Join(a.dir, "uploads")))
	reg = strings.Replace(reg, "stores:\n", fmt.Sprintf("stores:\n  vendor: {kind: processor, webhook: %q, secret_env: HOOK_SECRET, deadline: 10m}\n", hookURL), 1)
	a.registry = filepath.Join(a.dir, "lethe.yaml")
	if err := os.WriteFile(a.registry, []byte(reg), 0o600); err != nil {
		t.Fatal(err)
	}
	a.env = append(withoutLetheEnv(), "LETHE_DATABASE_URL="+stateURL, "LETHE_CONFIG="+a.registry,
		"LETHE_SUBJECT_KEY=lifeline-test-subject-key-of-32-characters", "LETHE_ADMIN_TOKEN="+lifelineAdminToken,
		"LETHE_HEARTBEAT="+testHeartbeat, demoDSNEnv+"="+filepath.Join(a.dir, "app.db"), "HOOK_SECRET=lifeline-hook-secret")
	return a
}

// serve starts lethe serve on a's state store and returns once it serves.
func (a *app) serve(t *testing.T) *demoServer {
	t.Helper()
	s := &demoServer{token: lifelineAdminToken, stderr: &testkit.Buffer{}}
	s.cmd = exec.Command(binary, "serve", "--addr", "127.0.0.1:0")
	s.cmd.Env, s.cmd.Stderr = a.env, s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() })
	s.waitServing(t)
	return s
}

// request is what the tests read of a request.
type request struct {
	ID       string
	Status   string
	Attempts int
	Counts   map[string]int64
}

func (s *demoServer) fileErasure(t *testing.T, email string) string {
	t.Helper()
	var r request
	if code := s.call(t, "POST", "/v1/requests", fmt.Sprintf(`{"type":"erasure","email":%q}`, email), &r); code != http.StatusAccepted {
		t.Fatalf("POST /v1/requests = %d", code)
	}
	return r.ID
}

func (s *demoServer) request(t *testing.T, id string) request {
	t.Helper()
	var r request
	if code := s.call(t, "GET", "/v1/requests/"+id, "", &r); code != http.StatusOK {
		t.Fatalf("GET /v1/requests/%s = %d", id, code)
	}
	return r
}

// waitEnded polls request id until it leaves pending and running.
func (s *demoServer) waitEnded(t *testing.T, id string, within time.Duration) request {
	t.Helper()
	var r request
	testkit.Eventually(t, within, "request "+id+" ended", func() error {
		if r = s.request(t, id); r.Status == "pending" || r.Status == "running" {
			return fmt.Errorf("still %s; log:\n%s", r.Status, s.stderr.String())
		}
		return nil
	})
	return r
}

func waitHits(t *testing.T, h *hook, n int32) {
	t.Helper()
	testkit.Eventually(t, 30*time.Second, fmt.Sprintf("the processor told %d times", n), func() error {
		if got := h.hits.Load(); got < n {
			return fmt.Errorf("told %d times", got)
		}
		return nil
	})
}

// kill ends s with SIGKILL, as an OOM kill or a lost node would.
func kill(t *testing.T, s *demoServer) time.Time {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	s.cmd.Wait()
	return time.Now()
}

// TestKilledServeResumesErasure files an erasure, kills (SIGKILL) the lethe
// serve running it while it waits on a processor, and checks that a live
// process resumes it within 30 seconds, from its journal, to exactly the
// result of an uninterrupted run: same counts, same application rows and
// files, a verifying audit chain. On Postgres a second replica watches the
// slow live worker first and must leave it alone; on SQLite a second lethe
// serve on the same file is refused, and the restarted one resumes at once.
func TestKilledServeResumesErasure(t *testing.T) {
	seed := t.TempDir()
	if _, err := demo.Seed(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
	const subject = "ada@example.com"

	// The uninterrupted run.
	ref := newApp(t, seed, newHook(t, true).srv.URL, "sqlite://"+filepath.Join(t.TempDir(), "state.db"))
	refServe := ref.serve(t)
	want := refServe.waitEnded(t, refServe.fileErasure(t, subject), 30*time.Second)
	if want.Status != "completed" || want.Counts["app.users"] != 1 {
		t.Fatalf("uninterrupted erasure ended %+v; want completed with the user row", want)
	}
	kill(t, refServe)
	wantRows := dumpApp(t, ref.dir)

	t.Run("postgres", func(t *testing.T) {
		h := newHook(t, false)
		a := newApp(t, seed, h.srv.URL, testdb.Postgres(t))
		first := a.serve(t)
		id := first.fileErasure(t, subject)
		waitHits(t, h, 1)

		replica := a.serve(t)
		time.Sleep(3 * time.Second) // four times the time a dead process takes to be noticed
		if r := replica.request(t, id); r.Status != "running" || r.Attempts != 1 {
			t.Fatalf("while its worker lives, the request is %s after %d attempts; want running, 1 attempt", r.Status, r.Attempts)
		}

		killed := kill(t, first)
		h.confirm.Store(true)
		a.serve(t) // the killed process's restart
		got := replica.waitEnded(t, id, 30*time.Second)
		took := time.Since(killed)
		checkResumed(t, a, got, want, wantRows, took)
	})

	t.Run("sqlite", func(t *testing.T) {
		h := newHook(t, false)
		a := newApp(t, seed, h.srv.URL, "sqlite://"+filepath.Join(t.TempDir(), "state.db"))
		first := a.serve(t)
		id := first.fileErasure(t, subject)
		waitHits(t, h, 1)

		second := exec.Command(binary, "serve", "--addr", "127.0.0.1:0")
		second.Env = a.env
		out, err := second.CombinedOutput()
		if err == nil || second.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "already serves") ||
			!strings.Contains(string(out), "use a Postgres state store") {
			t.Fatalf("a second lethe serve on the SQLite file: %v, output:\n%s\nwant exit 1 saying the file is already served", err, out)
		}

		killed := kill(t, first)
		h.confirm.Store(true)
		restarted := a.serve(t)
		got := restarted.waitEnded(t, id, 30*time.Second)
		checkResumed(t, a, got, want, wantRows, time.Since(killed))
	})
}

// checkResumed compares a killed and resumed erasure with the uninterrupted
// one.
func checkResumed(t *testing.T, a *app, got, want request, wantRows map[string][]string, took time.Duration) {
	t.Helper()
	t.Logf("resumed and completed %s after the kill", took.Round(time.Millisecond))
	if took > 30*time.Second {
		t.Errorf("the request ended %s after its worker was killed; want within 30s", took)
	}
	if got.Status != "completed" || got.Attempts != 2 {
		t.Errorf("request ended %s after %d attempts; want completed after 2 (the killed one and the resumed one)", got.Status, got.Attempts)
	}
	// Counts come from the journal: a rerun from scratch would count 0 rows
	// already deleted by the killed attempt.
	if !reflect.DeepEqual(got.Counts, want.Counts) {
		t.Errorf("counts %v; want %v, as uninterrupted", got.Counts, want.Counts)
	}
	if rows := dumpApp(t, a.dir); !reflect.DeepEqual(rows, wantRows) {
		t.Errorf("application after the resumed erasure differs from the uninterrupted one:\n got %v\nwant %v", rows, wantRows)
	}
	cmd := exec.Command(binary, "audit", "verify")
	cmd.Env = a.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("lethe audit verify: %v\n%s", err, out)
	}
}

// dumpApp returns every row of every table of the application in dir, and
// its upload files, as sorted text.
func dumpApp(t *testing.T, dir string) map[string][]string {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string][]string{}
	tables, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		tables.Scan(&n)
		names = append(names, n)
	}
	tables.Close()
	for _, n := range names {
		rows, err := db.Query(`SELECT * FROM "` + n + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		out[n] = []string{}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out[n] = append(out[n], fmt.Sprint(vals...))
		}
		rows.Close()
		sort.Strings(out[n])
	}
	filepath.WalkDir(filepath.Join(dir, "uploads"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			out["files"] = append(out["files"], rel)
		}
		return nil
	})
	sort.Strings(out["files"])
	return out
}

// TestKilledServeResumesSweep kills (SIGKILL) lethe serve on a SQLite state
// store in the middle of a retention sweep and restarts it at once, beating
// at the default pace, so that the killed process's last beat is still
// fresh: the restart, alone on the file, must carry the sweep on at once
// from its cursor with its cut-off, not take its predecessor for alive
// and leave the sweep running on a dead process, every later sweep refused.
func TestKilledServeResumesSweep(t *testing.T) {
	seed := t.TempDir()
	if _, err := demo.Seed(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
	stateFile := filepath.Join(t.TempDir(), "state.db")
	a := newApp(t, seed, newHook(t, true).srv.URL, "sqlite://"+stateFile)
	reg, err := os.ReadFile(a.registry)
	if err != nil {
		t.Fatal(err)
	}
	reg = []byte(strings.Replace(string(reg), "batch_size: 2000", "batch_size: 20", 1))
	if err := os.WriteFile(a.registry, reg, 0o600); err != nil {
		t.Fatal(err)
	}
	a.env = append(a.env, "LETHE_HEARTBEAT=5s") // the default: dead after 15s
	const oldChats, perChat = 100, 40
	appDB, err := sql.Open("sqlite", filepath.Join(a.dir, "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer appDB.Close()
	old := time.Now().Add(-90 * 24 * time.Hour)
	tx, err := appDB.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for c := range oldChats {
		id := 900000 + c
		if _, err := tx.Exec(`INSERT INTO chats (id, studio_id, user_id, title, created_at) SELECT ?, studio_id, user_id, 'old', ? FROM chats LIMIT 1`, id, old); err != nil {
			t.Fatal(err)
		}
		for m := range perChat {
			if _, err := tx.Exec(`INSERT INTO messages (chat_id, role, body, created_at) VALUES (?, 'user', ?, ?)`, id, fmt.Sprint("old ", m), old); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	stateDB, err := sql.Open("sqlite", stateFile)
	if err != nil {
		t.Fatal(err)
	}
	defer stateDB.Close()

	first := a.serve(t)
	var run struct{ ID string }
	if code := first.call(t, "POST", "/v1/retention/runs", `{}`, &run); code != http.StatusAccepted {
		t.Fatalf("POST /v1/retention/runs = %d", code)
	}
	testkit.Eventually(t, 60*time.Second, "the sweep to purge a first batch", func() error {
		return count(stateDB, one, `SELECT count(*) FROM lethe_retention_runs WHERE id = ? AND status = 'running' AND counts <> '[]'`, run.ID)
	})
	killed := kill(t, first)
	var running int
	stateDB.QueryRow(`SELECT count(*) FROM lethe_retention_runs WHERE id = ? AND status = 'running'`, run.ID).Scan(&running)
	if running != 1 {
		t.Fatal("the sweep ended before the kill; give it more to purge")
	}
	restarted := a.serve(t)
	testkit.Eventually(t, 30*time.Second, "the sweep carried on", func() error {
		if err := count(stateDB, one, `SELECT count(*) FROM lethe_retention_runs WHERE resumes = ?`, run.ID); err != nil {
			return fmt.Errorf("%w; log:\n%s", err, restarted.stderr.String())
		}
		return nil
	})
	t.Logf("sweep carried on %s after the kill", time.Since(killed).Round(time.Millisecond))
	testkit.Eventually(t, 2*time.Minute, "the sweep carried on to its end", func() error {
		return count(stateDB, zero, `SELECT count(*) FROM lethe_retention_runs WHERE status IN ('queued', 'running')`)
	})
	var resumes, status string
	var same int
	if err := stateDB.QueryRow(`SELECT r.status, r.resumes, r.as_of = k.as_of FROM lethe_retention_runs r JOIN lethe_retention_runs k ON k.id = ?
		WHERE r.id <> k.id`, run.ID).Scan(&status, &resumes, &same); err != nil {
		t.Fatal(err)
	}
	if status != "completed" || resumes != run.ID || same != 1 {
		t.Errorf("the carrying run is %s, resumes %q, same cut-off %v; want completed, resuming %s with its cut-off", status, resumes, same == 1, run.ID)
	}
	var left int
	appDB.QueryRow(`SELECT (SELECT count(*) FROM chats WHERE id >= 900000) + (SELECT count(*) FROM messages WHERE chat_id >= 900000)`).Scan(&left)
	if left != 0 {
		t.Errorf("%d expired rows left after the sweep", left)
	}
}
