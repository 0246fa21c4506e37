package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// binary is the lethe binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lethe-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "lethe")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// demoServer is a running "lethe serve --demo" process.
type demoServer struct {
	cmd      *exec.Cmd
	base     string
	token    string
	dir      string
	stateURL string
	stderr   *testkit.Buffer
}

var (
	tokenLine = regexp.MustCompile(`demo admin token \(shown once\): ([0-9a-f]+)`)
	addrLine  = regexp.MustCompile(`"msg":"lethe serving","addr":"([^"]+)"`)
)

// startDemo runs the binary as make run does, on a port of its own, with
// extra flags of lethe serve.
func startDemo(t *testing.T, extra ...string) *demoServer {
	t.Helper()
	dir := t.TempDir()
	s := &demoServer{dir: dir, stateURL: "sqlite://" + filepath.Join(dir, "state.db"), stderr: &testkit.Buffer{}}
	s.cmd = exec.Command(binary, append([]string{"serve", "--demo", "--addr", "127.0.0.1:0",
		"--demo-dir", filepath.Join(dir, "demo"), "--database-url", s.stateURL}, extra...)...)
	s.cmd.Env = withoutLetheEnv()
	s.start(t)
	return s
}

// start starts s.cmd, a lethe serve --demo, reads the admin token it
// prints and waits until it serves; it is killed when the test ends.
func (s *demoServer) start(t *testing.T) {
	t.Helper()
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if m := tokenLine.FindStringSubmatch(sc.Text()); m != nil {
			s.token = m[1]
			break
		}
	}
	go io.Copy(io.Discard, stdout)
	if s.token == "" {
		t.Fatalf("demo printed no token; log:\n%s", s.stderr.String())
	}
	s.waitServing(t)
}

// waitServing waits until s's log names the address it serves, and sets
// s.base.
func (s *demoServer) waitServing(t *testing.T) {
	t.Helper()
	testkit.Eventually(t, 30*time.Second, "lethe serve listening", func() error {
		m := addrLine.FindStringSubmatch(s.stderr.String())
		if m == nil {
			return fmt.Errorf("no address in the log:\n%s", s.stderr.String())
		}
		s.base = "http://" + m[1]
		return nil
	})
}

func withoutLetheEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LETHE_") {
			env = append(env, kv)
		}
	}
	return env
}

func (s *demoServer) call(t *testing.T, method, path, body string, out any) int {
	t.Helper()
	return callAs(t, s, s.token, method, path, body, out)
}

// lethe runs a one-shot command against the demo's state store with its
// subject key; stdout and stderr together.
func (s *demoServer) lethe(t *testing.T, args ...string) (string, int) {
	t.Helper()
	stdout, stderr, code := s.letheSplit(t, nil, args...)
	return stdout + stderr, code
}

// letheSplit is lethe with extra environment variables, its stdout and
// stderr apart, each in a buffer (not a terminal).
func (s *demoServer) letheSplit(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	key, err := os.ReadFile(filepath.Join(s.dir, "demo", "subject.key"))
	if err != nil {
		t.Fatal(err)
	}
	return s.letheBare(t, append([]string{"LETHE_SUBJECT_KEY=" + string(key)}, env...), args...)
}

// letheBare runs a one-shot command against the demo's state store with
// LETHE_DATABASE_URL, env and no other LETHE_ variable: no secret unless
// env names it.
func (s *demoServer) letheBare(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(append(withoutLetheEnv(), "LETHE_DATABASE_URL="+s.stateURL), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	_ = cmd.Run()
	return o.String(), e.String(), cmd.ProcessState.ExitCode()
}

// TestDemoTour files a request as the README's tour does, lists it, issues a
// tenant key, checks the audit chain, breaks it, and stops the service with
// SIGTERM.
func TestDemoTour(t *testing.T) {
	s := startDemo(t)
	var plan struct {
		Collections []struct {
			Store, Collection string
			Count             int64
		}
		Total int64
	}
	if code := s.call(t, "POST", "/v1/plan", `{"email":"ada@example.com"}`, &plan); code != http.StatusOK || plan.Total == 0 {
		t.Fatalf("POST /v1/plan = %d %+v; want 200 with Ada's rows", code, plan)
	}
	var created struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		DueAt  string `json:"due_at"`
	}
	if code := s.call(t, "POST", "/v1/requests", `{"type":"erasure","email":"ada@example.com"}`, &created); code != http.StatusAccepted {
		t.Fatalf("POST /v1/requests = %d", code)
	}
	if created.Status != "pending" || created.DueAt == "" {
		t.Fatalf("created request = %+v; want pending with a due_at", created)
	}
	var list struct {
		Items []struct{ ID, Status string }
	}
	s.call(t, "GET", "/v1/requests", "", &list)
	if len(list.Items) != 1 || list.Items[0].ID != created.ID {
		t.Fatalf("list = %+v; want the request %s", list.Items, created.ID)
	}
	var got struct {
		Status       string
		Counts       map[string]int64
		Verification struct{ Passed bool }
	}
	s.waitDone(t, s.token, created.ID)
	s.call(t, "GET", "/v1/requests/"+created.ID, "", &got)
	if got.Status != "completed" || got.Counts["app.users"] != 1 || got.Counts["app.messages"] == 0 || !got.Verification.Passed {
		t.Fatalf("request ended %+v; want completed, verified, with Ada's user row and messages counted", got)
	}
	var after struct{ Total int64 }
	s.call(t, "POST", "/v1/plan", `{"email":"ada@example.com"}`, &after)
	if after.Total != 0 {
		t.Fatalf("plan after the erasure finds %d rows; want 0", after.Total)
	}
	var other struct{ Total int64 }
	s.call(t, "POST", "/v1/plan", `{"email":"grace@example.com"}`, &other)
	if other.Total == 0 {
		t.Fatal("plan for grace finds nothing; the erasure of ada must not touch her")
	}

	out, code := s.lethe(t, "keys", "create", "--tenant", "career-coach")
	if code != 0 || !strings.Contains(out, "lethe_") {
		t.Fatalf("keys create: exit %d: %s", code, out)
	}
	token := strings.TrimSpace(out[strings.LastIndex(out, "lethe_"):])
	demoStudios(t, s)
	req, _ := http.NewRequest("GET", s.base+"/v1/requests", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tenantList struct{ Items []any }
	json.NewDecoder(resp.Body).Decode(&tenantList)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(tenantList.Items) != 0 {
		t.Fatalf("tenant key listing: %d with %d items; want 200 and none of the admin's untenanted request", resp.StatusCode, len(tenantList.Items))
	}

	if out, code := s.lethe(t, "audit", "verify"); code != 0 || !strings.Contains(out, "audit chain ok") {
		t.Fatalf("audit verify on a whole chain: exit %d: %s", code, out)
	}
	db, err := state.Open(context.Background(), s.stateURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL.Exec(`UPDATE lethe_audit SET actor = 'someone-else' WHERE seq = 1`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if out, code := s.lethe(t, "audit", "verify"); code != 1 || !strings.Contains(out, "BROKEN at entry 1") {
		t.Fatalf("audit verify on a changed chain: exit %d: %s", code, out)
	}

	if strings.Contains(s.stderr.String(), "ada@example.com") {
		t.Error("the service log contains the subject's email in clear")
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("after SIGTERM: %v; log:\n%s", err, s.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("lethe did not stop within 30s of SIGTERM")
	}
	if !strings.Contains(s.stderr.String(), "lethe stopped") {
		t.Error("no graceful-shutdown line in the log")
	}
}

// TestConfigCheck runs lethe config check on the demo registry and on broken
// copies of it, and lethe plan on the demo.
func TestConfigCheck(t *testing.T) {
	s := startDemo(t)
	path := filepath.Join(s.dir, "demo", "lethe.yaml")
	dbEnv := "DEMO_APP_DB=" + filepath.Join(s.dir, "demo", "app.db")
	run := func(env []string, args ...string) (string, int) {
		cmd := exec.Command(binary, args...)
		cmd.Env = append(withoutLetheEnv(), env...)
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	if out, code := run([]string{dbEnv}, "config", "check", "--config", path); code != 0 || !strings.Contains(out, ": ok (") ||
		!strings.Contains(out, "collections.app.chats.retention: purges rows with created_at < "+time.Now().UTC().Add(-30*24*time.Hour).Format(time.DateOnly)) {
		t.Fatalf("config check of the demo registry (want ok and the chats' cut-off): exit %d: %s", code, out)
	}
	if out, code := run(nil, "config", "check", "--config", path); code != 1 || !strings.Contains(out, "stores.app.dsn_env") || !strings.Contains(out, "DEMO_APP_DB") {
		t.Fatalf("config check without the DSN variable: exit %d: %s", code, out)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, from, to, want string }{
		{"unknown collection", "references: {chat_id: chats.id}", "references: {chat_id: chat.id}", "collections.app.messages.references.chat_id"},
		{"missing column", "timestamp: created_at}", "timestamp: made_at}", "made_at"},
		{"bad window", "window: 7d", "window: sevendays", "collections.app.uploads.retention.window"},
		{"key not the table's", "  app.uploads:\n", "  app.uploads:\n    primary_key: storage_key\n", "collections.app.uploads.primary_key: primary_key (storage_key) is not a key of table"},
		{"unit on a date/time", "timestamp: created_at}", "timestamp: {column: created_at, unit: s}}", "remove unit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(string(raw), tc.from) {
				t.Fatalf("demo registry no longer contains %q", tc.from)
			}
			broken := filepath.Join(t.TempDir(), "lethe.yaml")
			if err := os.WriteFile(broken, []byte(strings.Replace(string(raw), tc.from, tc.to, 1)), 0o600); err != nil {
				t.Fatal(err)
			}
			out, code := run([]string{dbEnv}, "config", "check", "--config", broken)
			if code != 1 || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, output %q; want exit 1 naming %q", code, out, tc.want)
			}
		})
	}
	out, code := run([]string{dbEnv}, "plan", "--config", path, "--email", "GRACE@example.com ")
	if code != 0 || !strings.Contains(out, "messages") || !strings.Contains(out, "nothing was changed") {
		t.Fatalf("lethe plan: exit %d: %s", code, out)
	}
}

// demoStudios checks that the demo registered both studios with profiles,
// that lethe tenants create and list work on its store, and that a key for
// a slug nobody registered is refused.
func demoStudios(t *testing.T, s *demoServer) {
	t.Helper()
	var calm struct {
		DisplayName string   `json:"display_name"`
		LegalName   string   `json:"legal_name"`
		BrandColor  string   `json:"brand_color"`
		OwnerEmails []string `json:"owner_emails"`
	}
	if code := s.call(t, "GET", "/v1/tenants/calm-mind", "", &calm); code != http.StatusOK ||
		calm.LegalName == "" || calm.DisplayName != "Calm Mind" || len(calm.OwnerEmails) == 0 || calm.BrandColor == "" {
		t.Fatalf("GET /v1/tenants/calm-mind: %d %+v", code, calm)
	}
	out, code := s.lethe(t, "tenants", "list")
	if code != 0 || !strings.Contains(out, "calm-mind\tCalm Mind\tCalm Mind Practice GmbH") || !strings.Contains(out, "career-coach\tCareer Coach\t") {
		t.Fatalf("tenants list: exit %d: %s", code, out)
	}
	if out, code = s.lethe(t, "keys", "create", "--tenant", "no-such-studio"); code == 0 || !strings.Contains(out, "not a registered tenant") {
		t.Fatalf("keys create for an unregistered slug: exit %d: %s", code, out)
	}
	out, code = s.lethe(t, "tenants", "create", "--slug", "new-studio", "--name", "New Studio", "--owner", "o@new.example.com", "--color", "#123456")
	if code != 0 || !strings.Contains(out, "tenant new-studio registered") {
		t.Fatalf("tenants create: exit %d: %s", code, out)
	}
	if out, code = s.lethe(t, "tenants", "create", "--slug", "new-studio", "--name", "Again"); code != 1 || !strings.Contains(out, "already registered") {
		t.Fatalf("tenants create twice: exit %d: %s", code, out)
	}
	if out, code = s.lethe(t, "keys", "create", "--tenant", "new-studio"); code != 0 {
		t.Fatalf("keys create for the new studio: exit %d: %s", code, out)
	}
}
