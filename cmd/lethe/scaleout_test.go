package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/lethe-privacy/lethe/pkg/testdb"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// The application of the scale-out test, on Postgres: users; chats in three
// studios; messages, recent ones and, for the archive users, old ones that
// the sweep purges (window 30 days).
const scaleRegistry = `
stores:
  app: {kind: sql, driver: postgres, dsn_env: SCALE_APP_URL}
collections:
  app.users:
    identity: {email: email}
    erasure: delete
  app.chats:
    tenant: studio
    references: {user_id: users.id}
    erasure: delete
  app.messages:
    references: {chat_id: chats.id}
    retention: {window: 30d, timestamp: created_at}
    erasure: delete
retention: {batch_size: 100}
`

// Who the 500 requests are about: users 1–200 are erased everywhere,
// 201–350 in one studio, 351–500 ask for their data; 501–600 are left
// alone, and 601–700 own the expired messages.
const (
	scaleErased   = 200
	scaleScoped   = 350
	scaleAccess   = 500
	scaleUsers    = 600
	scaleArchive  = 100
	scaleOld      = 300 // expired messages per archive chat
	scaleMessages = 5   // recent messages per chat
)

var scaleStudios = []string{"alpha", "beta", "gamma"}

func scaleStudio(user int) string { return scaleStudios[user%3] }

// TestThreeReplicasScaleOut runs three lethe serve processes on one state
// database and one application. The first, alone at first and so the
// leader, runs a retention sweep; 500 requests (access, erasure, erasure
// in one studio; three studios) are filed across the three. The sweeping
// leader is killed with SIGKILL mid-sweep and another replica mid-erasure;
// both are restarted. Every request must end once, completed; the
// application must hold exactly what the requests and the sweep leave;
// the sweep must be carried on with its cut-off and never overlap itself;
// and lethe audit verify must pass.
func TestThreeReplicasScaleOut(t *testing.T) {
	started := time.Now()
	appURL, stateURL := testdb.Postgres(t), testdb.Postgres(t)
	app := openDB(t, appURL)
	fillScaleApp(t, app)
	state := openDB(t, stateURL)
	dir := t.TempDir()
	reg := filepath.Join(dir, "lethe.yaml")
	if err := os.WriteFile(reg, []byte(scaleRegistry), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &cluster{env: append(withoutLetheEnv(), "LETHE_DATABASE_URL="+stateURL, "LETHE_CONFIG="+reg,
		"LETHE_SUBJECT_KEY=scale-test-subject-key-of-32-characters", "LETHE_ADMIN_TOKEN="+lifelineAdminToken,
		"LETHE_HEARTBEAT="+testHeartbeat, "LETHE_RESPONSES_SWEEP_EVERY=24h", "SCALE_APP_URL="+appURL,
		"LETHE_EXPORT_URL=file://"+filepath.Join(dir, "exports"), "LETHE_EXPORT_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")}
	for _, s := range scaleStudios {
		if out, err := c.command("tenants", "create", "--slug", s, "--name", "Studio "+s).CombinedOutput(); err != nil {
			t.Fatalf("lethe tenants create %s: %v\n%s", s, err, out)
		}
	}

	leader := c.serve(t)
	testkit.Eventually(t, 30*time.Second, "the first replica to lead", func() error {
		return count(state, one, `SELECT count(*) FROM river_leader`)
	})
	var run struct{ ID string }
	if code := leader.call(t, "POST", "/v1/retention/runs", `{}`, &run); code != http.StatusAccepted {
		t.Fatalf("POST /v1/retention/runs = %d", code)
	}
	testkit.Eventually(t, 60*time.Second, "the sweep to purge a first batch", func() error {
		return count(state, one, `SELECT count(*) FROM lethe_retention_runs WHERE id = $1 AND status = 'running' AND counts <> '[]'`, run.ID)
	})
	if p := processOf(t, state, leader); p != runProcess(t, state, run.ID) {
		t.Fatalf("the sweep runs on %s, not on the leader %s", runProcess(t, state, run.ID), p)
	}
	replicas := c.serveMany(t, 2)
	var running int
	state.QueryRow(`SELECT count(*) FROM lethe_retention_runs WHERE id = $1 AND status = 'running'`, run.ID).Scan(&running)
	if running != 1 {
		t.Fatal("the sweep ended before the other replicas started; give it more to purge")
	}
	leaderDied := kill(t, leader)
	replicas = append(replicas, c.serve(t))
	ids := fileScaleRequests(t, replicas)

	worker := replicas[0]
	workerID := processOf(t, state, worker)
	testkit.Eventually(t, 60*time.Second, "a replica to run an erasure", func() error {
		return count(state, positive, `SELECT count(*) FROM lethe_requests WHERE status = 'running' AND type = 'erasure' AND process_id = $1`, workerID)
	})
	kill(t, worker)
	replicas = []*demoServer{c.serve(t), replicas[1], replicas[2]}

	testkit.Eventually(t, 5*time.Minute, "every request to end", func() error {
		return count(state, zero, `SELECT count(*) FROM lethe_requests WHERE status IN ('pending', 'running')`)
	})
	testkit.Eventually(t, 2*time.Minute, "the sweep to be carried on to its end", func() error {
		if err := count(state, zero, `SELECT count(*) FROM lethe_retention_runs WHERE status IN ('queued', 'running')`); err != nil {
			return fmt.Errorf("%w: %s", err, activeSweeps(state))
		}
		return nil
	})
	checkScaleRequests(t, state, replicas[1], ids)
	checkScaleApp(t, app)
	checkSweeps(t, state, run.ID, leaderDied)
	if out, err := c.command("audit", "verify").CombinedOutput(); err != nil {
		t.Errorf("lethe audit verify: %v\n%s", err, out)
	}
	t.Logf("three replicas, 500 requests, two kills: %s", time.Since(started).Round(time.Second))
}

// cluster is the environment the replicas share.
type cluster struct{ env []string }

func (c *cluster) command(args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Env = c.env
	return cmd
}

// serveMany starts n replicas at once and returns once they serve.
func (c *cluster) serveMany(t *testing.T, n int) []*demoServer {
	t.Helper()
	out := make([]*demoServer, n)
	var wg sync.WaitGroup
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = c.serve(t)
		}()
	}
	wg.Wait()
	for _, s := range out {
		if s == nil {
			t.FailNow()
		}
	}
	return out
}

// serve starts a replica and returns once it serves.
func (c *cluster) serve(t *testing.T) *demoServer {
	t.Helper()
	a := &app{env: c.env}
	return a.serve(t)
}

func openDB(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// fillScaleApp creates the application's tables and rows.
func fillScaleApp(t *testing.T, db *sql.DB) {
	t.Helper()
	old, recent := time.Now().Add(-90*24*time.Hour), time.Now()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{sql: `CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL)`},
		{sql: `CREATE TABLE chats (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES users(id), studio TEXT NOT NULL)`},
		{sql: `CREATE INDEX ON chats (user_id)`},
		{sql: `CREATE TABLE messages (id BIGSERIAL PRIMARY KEY, chat_id BIGINT NOT NULL REFERENCES chats(id), body TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL)`},
		{sql: `CREATE INDEX ON messages (chat_id)`},
		{sql: fmt.Sprintf(`INSERT INTO users SELECT g, 'user' || g || '@example.com' FROM generate_series(1, %d) g`, scaleUsers+scaleArchive)},
		// chat id = user * 10 + studio index
		{sql: `INSERT INTO chats SELECT u.id * 10 + s.i, u.id, s.name FROM users u, (VALUES (0, 'alpha'), (1, 'beta'), (2, 'gamma')) AS s(i, name)`},
		{sql: fmt.Sprintf(`INSERT INTO messages (chat_id, body, created_at) SELECT c.id, 'hello ' || m, $1 FROM chats c, generate_series(1, %d) m`, scaleMessages),
			args: []any{recent}},
		{sql: fmt.Sprintf(`INSERT INTO messages (chat_id, body, created_at) SELECT c.id, 'old ' || m, $1 FROM chats c, generate_series(1, %d) m WHERE c.user_id > %d`, scaleOld, scaleUsers),
			args: []any{old}},
		// Each statement that deletes expired messages (the sweep's, no
		// erasure's) takes 5 ms longer, as on a busier store: the sweep,
		// which pauses only after a slow slice, must still be running when
		// the other replicas have started and its leader is killed.
		{sql: `CREATE FUNCTION slow_sweep() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				IF EXISTS (SELECT 1 FROM gone WHERE created_at < now() - interval '30 days') THEN
					PERFORM pg_sleep(0.005);
				END IF;
				RETURN NULL;
			END $$`},
		{sql: `CREATE TRIGGER slow_sweep AFTER DELETE ON messages REFERENCING OLD TABLE AS gone
			FOR EACH STATEMENT EXECUTE FUNCTION slow_sweep()`},
		{sql: `ANALYZE`},
	} {
		if _, err := db.Exec(q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
}

// scaleRequest is a filed request and the status it must end in.
type scaleRequest struct {
	id, kind string
	user     int
}

// fileScaleRequests files the 500 requests round the replicas, eight at
// a time.
func fileScaleRequests(t *testing.T, replicas []*demoServer) []scaleRequest {
	t.Helper()
	out := make([]scaleRequest, scaleAccess)
	var g errgroup.Group
	g.SetLimit(8)
	for u := 1; u <= scaleAccess; u++ {
		g.Go(func() error {
			out[u-1] = fileScaleRequest(t, replicas[u%len(replicas)], u)
			return nil
		})
	}
	g.Wait()
	return out
}

// fileScaleRequest files user u's request.
func fileScaleRequest(t *testing.T, s *demoServer, u int) scaleRequest {
	body, kind := fmt.Sprintf(`{"type":"erasure","email":"user%d@example.com"}`, u), "erasure"
	switch {
	case u > scaleScoped:
		body, kind = fmt.Sprintf(`{"type":"access","email":"user%d@example.com"}`, u), "access"
	case u > scaleErased:
		body, kind = fmt.Sprintf(`{"type":"erasure","email":"user%d@example.com","tenant":%q}`, u, scaleStudio(u)), "scoped"
	}
	status, raw := s.send(t, s.token, "POST", "/v1/requests", body)
	var r request
	if status != http.StatusAccepted || json.Unmarshal(raw, &r) != nil {
		t.Errorf("POST /v1/requests %s = %d %s", body, status, raw)
	}
	return scaleRequest{id: r.ID, kind: kind, user: u}
}

// checkScaleRequests: every request completed, with one end in the audit
// trail, and the counts of what it erased.
func checkScaleRequests(t *testing.T, state *sql.DB, s *demoServer, reqs []scaleRequest) {
	t.Helper()
	ends := map[string]int{}
	rows, err := state.Query(`SELECT request_id, action FROM lethe_audit WHERE action LIKE 'request.%'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, action string
		rows.Scan(&id, &action)
		switch action {
		case "request.completed", "request.failed", "request.cancelled", "request.denied":
			ends[id]++
		}
	}
	rows.Close()
	want := map[string]map[string]int64{
		"erasure": {"app.users": 1, "app.chats": 3, "app.messages": 3 * scaleMessages},
		"scoped":  {"app.chats": 1, "app.messages": scaleMessages},
	}
	for _, q := range reqs {
		r := s.request(t, q.id)
		if r.Status != "completed" || ends[q.id] != 1 {
			t.Errorf("%s request of user %d ended %s with %d ends in the audit trail; want completed once", q.kind, q.user, r.Status, ends[q.id])
			continue
		}
		if r.Attempts > 1 {
			// Killed mid-erasure: a batch committed just before the kill and
			// not yet journaled is deleted but not counted. Its data is
			// checked with everyone's (checkScaleApp).
			continue
		}
		for coll, n := range want[q.kind] {
			if r.Counts[coll] != n {
				t.Errorf("%s request of user %d counts %v; want %s: %d", q.kind, q.user, r.Counts, coll, n)
				break
			}
		}
	}
}

// checkScaleApp compares what is left of each user with what the requests
// and the sweep should have left.
func checkScaleApp(t *testing.T, db *sql.DB) {
	t.Helper()
	type left struct{ chats, recent, old int }
	got := map[int]left{}
	rows, err := db.Query(`SELECT u.id, count(DISTINCT c.id), count(m.id) FILTER (WHERE m.body LIKE 'hello%'), count(m.id) FILTER (WHERE m.body LIKE 'old%')
		FROM users u LEFT JOIN chats c ON c.user_id = u.id LEFT JOIN messages m ON m.chat_id = c.id GROUP BY u.id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int
		var l left
		rows.Scan(&id, &l.chats, &l.recent, &l.old)
		got[id] = l
	}
	rows.Close()
	var wrong []string
	for u := 1; u <= scaleUsers+scaleArchive; u++ {
		l, ok := got[u]
		want := left{chats: 3, recent: 3 * scaleMessages}
		switch {
		case u <= scaleErased:
			if ok {
				wrong = append(wrong, fmt.Sprintf("user %d not erased: %+v", u, l))
			}
			continue
		case u <= scaleScoped:
			want = left{chats: 2, recent: 2 * scaleMessages}
		}
		if !ok || l != want {
			wrong = append(wrong, fmt.Sprintf("user %d holds %+v (present %v); want %+v", u, l, ok, want))
		}
	}
	sort.Strings(wrong)
	if len(wrong) > 0 {
		t.Errorf("%d users hold the wrong data, such as: %v", len(wrong), wrong[:min(5, len(wrong))])
	}
	var scoped int
	db.QueryRow(`SELECT count(*) FROM chats WHERE user_id > $1 AND user_id <= $2 AND studio = CASE user_id % 3 WHEN 0 THEN 'alpha' WHEN 1 THEN 'beta' ELSE 'gamma' END`,
		scaleErased, scaleScoped).Scan(&scoped)
	if scoped != 0 {
		t.Errorf("%d chats left in the studio their users were erased from", scoped)
	}
}

// activeSweeps describes the runs still queued or running, and whether
// their processes beat, for a failure message.
func activeSweeps(state *sql.DB) string {
	rows, err := state.Query(`SELECT r.id, r.status, r.process_id, COALESCE(r.resumes, ''),
		COALESCE(p.beat_at > now() - interval '5 seconds', false)
		FROM lethe_retention_runs r LEFT JOIN lethe_processes p ON p.id = r.process_id WHERE r.status IN ('queued', 'running')`)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, status, process, resumes string
		var live bool
		rows.Scan(&id, &status, &process, &resumes, &live)
		out = append(out, fmt.Sprintf("run %s %s on %s (live %v) resuming %q", id, status, process, live, resumes))
	}
	return fmt.Sprint(out)
}

// checkSweeps: the killed sweep was carried on, within 30 seconds of its
// process's death, by runs with its cut-off and cursor, the last of which
// completed and purged every expired message; no sweep wrote after the
// next one started.
func checkSweeps(t *testing.T, state *sql.DB, first string, died time.Time) {
	t.Helper()
	rows, err := state.Query(`SELECT id, status, as_of, started_at, heartbeat_at, COALESCE(resumes, '') FROM lethe_retention_runs
		WHERE dry_run = false AND kind = 'retention' ORDER BY started_at`)
	if err != nil {
		t.Fatal(err)
	}
	type sweep struct {
		id, status, resumes string
		asOf, started, beat time.Time
	}
	var sweeps []sweep
	for rows.Next() {
		var s sweep
		if err := rows.Scan(&s.id, &s.status, &s.asOf, &s.started, &s.beat, &s.resumes); err != nil {
			t.Fatal(err)
		}
		sweeps = append(sweeps, s)
	}
	rows.Close()
	if len(sweeps) < 2 || sweeps[0].id != first || sweeps[0].status != "failed" {
		t.Fatalf("sweeps %+v; want the killed one failed, then the one that carried it on", sweeps)
	}
	if took := sweeps[1].started.Sub(died); took > 30*time.Second {
		t.Errorf("the killed leader's sweep was carried on %s after its death; want within 30s", took.Round(time.Millisecond))
	} else {
		t.Logf("the killed leader's sweep carried on %s after its death", took.Round(time.Millisecond))
	}
	last := sweeps[len(sweeps)-1]
	if last.status != "completed" || !last.asOf.Equal(sweeps[0].asOf) {
		t.Errorf("the last sweep %+v; want completed with the killed one's cut-off %s", last, sweeps[0].asOf)
	}
	for i := 1; i < len(sweeps); i++ {
		if sweeps[i].resumes != sweeps[i-1].id {
			t.Errorf("sweep %s resumes %q; want %s", sweeps[i].id, sweeps[i].resumes, sweeps[i-1].id)
		}
		if sweeps[i].started.Before(sweeps[i-1].beat) {
			t.Errorf("sweep %s started at %s, before %s last wrote (%s): two sweeps at once",
				sweeps[i].id, sweeps[i].started, sweeps[i-1].id, sweeps[i-1].beat)
		}
	}
}

// processOf returns the process id of a replica, from its heartbeat row.
func processOf(t *testing.T, state *sql.DB, s *demoServer) string {
	t.Helper()
	var id string
	testkit.Eventually(t, 10*time.Second, "the replica's heartbeat", func() error {
		return state.QueryRow(`SELECT id FROM lethe_processes WHERE pid = $1 ORDER BY started_at DESC LIMIT 1`, s.cmd.Process.Pid).Scan(&id)
	})
	return id
}

func runProcess(t *testing.T, state *sql.DB, run string) string {
	t.Helper()
	var p string
	if err := state.QueryRow(`SELECT process_id FROM lethe_retention_runs WHERE id = $1`, run).Scan(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

// count runs a count query on db for a testkit.Eventually check: nil once
// want(n) holds, else an error saying what was counted.
func count(db *sql.DB, want func(n int) bool, q string, args ...any) error {
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		return err
	}
	if !want(n) {
		return fmt.Errorf("counted %d", n)
	}
	return nil
}

func zero(n int) bool     { return n == 0 }
func one(n int) bool      { return n == 1 }
func positive(n int) bool { return n > 0 }
