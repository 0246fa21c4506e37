package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/demo"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

// TestRetentionTour is the README's retention step on the demo: a dry run
// over the API, a real sweep with lethe retention run, and the run's record.
func TestRetentionTour(t *testing.T) {
	s := startDemo(t)
	var queued struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if code := s.call(t, "POST", "/v1/retention/runs", `{"dry_run":true}`, &queued); code != 202 || queued.Status != "queued" {
		t.Fatalf("POST /v1/retention/runs: %d %+v", code, queued)
	}
	type run struct {
		Status string `json:"status"`
		DryRun bool   `json:"dry_run"`
		Totals struct {
			RowsPurged   int64 `json:"rows_purged"`
			FilesPurged  int64 `json:"files_purged"`
			FilesPending int64 `json:"files_pending"`
		} `json:"totals"`
	}
	var dry run
	testkit.Eventually(t, 30*time.Second, "the dry run completed", func() error {
		if s.call(t, "GET", "/v1/retention/runs/"+queued.ID, "", &dry); dry.Status != "completed" {
			return fmt.Errorf("still %s", dry.Status)
		}
		return nil
	})
	// The demo: three chats older than 30 days with their 14 messages, two
	// uploads older than 7 days.
	if !dry.DryRun || dry.Totals.RowsPurged != 19 || dry.Totals.FilesPurged != 2 {
		t.Fatalf("dry run: %+v; want 19 rows and 2 files", dry)
	}
	uploads := filepath.Join(s.dir, "demo", "uploads")
	before := countFiles(t, uploads)
	dbEnv := "DEMO_APP_DB=" + filepath.Join(s.dir, "demo", "app.db")
	// stdout and stderr go to buffers, as in a redirected log: the count
	// first, plain progress lines, no \r, and the summary on its own line.
	out, progress, code := s.letheSplit(t, []string{dbEnv}, "retention", "run", "--config", filepath.Join(s.dir, "demo", "lethe.yaml"))
	if code != 0 || !regexp.MustCompile(`(?m)^total: purged 19 rows, `).MatchString(out) || !strings.Contains(out, "app.uploads") {
		t.Fatalf("lethe retention run: exit %d:\n%s\nstderr:\n%s", code, out, progress)
	}
	if strings.ContainsRune(out+progress, '\r') {
		t.Errorf("redirected output holds \\r frames:\nstdout %q\nstderr %q", out, progress)
	}
	for _, want := range []string{
		// 19 rows purged and 10 messages redacted; two upload files.
		"retention: to sweep 29 rows and 2 files in 3 collections\n",
		"retention:   app.messages: 24 rows, 0 files\n",
		"retention: app.messages: 24 of 24 rows, 0 of 0 files\n",
		"retention: app.uploads: 2 of 2 rows, 2 of 2 files\n",
	} {
		if !strings.Contains(progress, want) {
			t.Errorf("progress on stderr lacks %q:\n%s", want, progress)
		}
	}
	// The authors' names, declared user.name, are pseudonymised whole in
	// every redacted message, as their addresses are.
	app, err := sqlstore.Open("app", registry.DriverSQLite, filepath.Join(s.dir, "demo", "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	var emails, names, grace int64
	app.DB().Raw(`SELECT count(*) FROM messages WHERE body LIKE '%"email":"<email:%'`).Scan(&emails)
	app.DB().Raw(`SELECT count(*) FROM messages WHERE body LIKE '%"name":"<name:%'`).Scan(&names)
	app.DB().Raw(`SELECT count(*) FROM messages WHERE body LIKE '%"email":"<email:%' AND body LIKE '%Grace Hopper%'`).Scan(&grace)
	if emails == 0 || names != emails || grace != 0 {
		t.Errorf("redacted messages: %d with the author's address pseudonymised, %d with the name, %d still naming Grace Hopper; want as many names as addresses, none in clear", emails, names, grace)
	}
	// Nor is any of the studios' known people named in their text ("Great,
	// Grace." in her chat): the sweep replaced them without being told.
	var bodies []string
	app.DB().Raw(`SELECT body FROM messages WHERE body LIKE '%"email":"<email:%'`).Scan(&bodies)
	for _, b := range bodies {
		for _, name := range []string{"Ada", "Lovelace", "Grace", "Hopper", "Alan", "Turing", "Katherine", "Johnson"} {
			if regexp.MustCompile(`\b` + name + `\b`).MatchString(b) {
				t.Errorf("a redacted message still names %s: %s", name, b)
			}
		}
	}
	if after := countFiles(t, uploads); after != before-2 {
		t.Errorf("upload files: %d before, %d after; want 2 deleted", before, after)
	}
	var list struct {
		Items []run `json:"items"`
	}
	if s.call(t, "GET", "/v1/retention/runs", "", &list); len(list.Items) != 2 || list.Items[0].DryRun || list.Items[0].Totals.RowsPurged != 19 {
		t.Fatalf("runs: %+v; want the CLI's sweep first, then the dry run", list.Items)
	}
	if out, code := s.letheEnv(t, []string{dbEnv}, "retention", "run", "--dry-run", "--config", filepath.Join(s.dir, "demo", "lethe.yaml")); code != 0 || !strings.Contains(out, "would purge 0 rows") {
		t.Fatalf("dry run after the sweep: exit %d:\n%s", code, out)
	}
}

// TestConfigCheckRetentionSchedule: an unparsable cron spec fails config
// check with its path.
func TestConfigCheckRetentionSchedule(t *testing.T) {
	s := startDemo(t)
	path := filepath.Join(s.dir, "demo", "lethe.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ from, to, want string }{
		{`schedule: "0 3 * * *"`, `schedule: "0 25 * * *"`, "retention.schedule"},
		{`schedule: "0 3 * * *"`, `schedule: "every night"`, "retention.schedule"},
		{"window: 30d, timestamp: created_at}\n    erasure: delete\n\n  app.messages", "window: 30 days, timestamp: created_at}\n    erasure: delete\n\n  app.messages", "collections.app.chats.retention.window"},
	} {
		if !strings.Contains(string(raw), tc.from) {
			t.Fatalf("demo registry no longer contains %q", tc.from)
		}
		broken := filepath.Join(t.TempDir(), "lethe.yaml")
		if err := os.WriteFile(broken, []byte(strings.Replace(string(raw), tc.from, tc.to, 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		out, code := s.letheEnv(t, []string{"DEMO_APP_DB=" + filepath.Join(s.dir, "demo", "app.db")}, "config", "check", "--config", broken)
		if code != 1 || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d, output %q; want exit 1 naming %s", tc.to, code, out, tc.want)
		}
	}
}

// letheEnv is lethe with extra environment variables.
func (s *demoServer) letheEnv(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return s.lethe(t, args...)
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestInterruptedSweepJobIsHandedOn: a sweep interrupted by its process
// stopping (the job's context cancelled after a batch, as River does past
// the stop's grace) returns the context's error to the queue, which hands
// the job to a live process, rather than nil, which made River record the
// job done and left the sweep for the next schedule. The job's next attempt
// carries the run on, with its cut-off, to its end.
func TestInterruptedSweepJobIsHandedOn(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := demo.Seed(ctx, dir); err != nil {
		t.Fatal(err)
	}
	reg := filepath.Join(dir, "lethe.yaml")
	if err := os.WriteFile(reg, demo.Registry(demoDSNEnv, filepath.Join(dir, "uploads")), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := state.Open(ctx, "sqlite://"+filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc, err := newServices(db, Config{SubjectKey: "handed-on-test-subject-key-of-32-characters"}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if k == demoDSNEnv {
			return filepath.Join(dir, "app.db")
		}
		return ""
	}
	app, err := openApp(ctx, reg, getenv, svc.Hasher, svc.Redactors, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	job, stop := context.WithCancel(ctx)
	defer stop()
	sweep := queueSweep(svc.sweeper(app, sweepOptions{Logger: log, BatchSize: 1, Progress: func(r *retention.Run) {
		if r.Totals().RowsPurged > 0 {
			stop() // the process stops after the sweep's first batch
		}
	}}), log)
	if err := sweep(job, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("an interrupted sweep returned %v to the queue; want context.Canceled, so that its job is handed on", err)
	}
	runs, err := svc.Runs.Runs(ctx, retention.RunFilter{})
	if err != nil || len(runs.Items) != 1 || runs.Items[0].Status != retention.StatusFailed {
		t.Fatalf("runs after the interruption: %+v %v; want one, failed", runs, err)
	}
	first := runs.Items[0]
	if err := sweep(ctx, ""); err != nil {
		t.Fatalf("the job's next attempt: %v", err)
	}
	runs, err = svc.Runs.Runs(ctx, retention.RunFilter{})
	if err != nil || len(runs.Items) != 2 {
		t.Fatalf("runs after the next attempt: %+v %v; want two", runs, err)
	}
	next := runs.Items[0]
	if next.Status != retention.StatusCompleted || next.Resumes != first.ID || !next.AsOf.Equal(first.AsOf) {
		t.Errorf("the next attempt's run %+v; want completed, resuming %s as of %s", next, first.ID, first.AsOf)
	}
	// The demo's 19 expired rows, each purged once.
	if n := first.Totals().RowsPurged + next.Totals().RowsPurged; first.Totals().RowsPurged == 0 || n != 19 {
		t.Errorf("rows purged: %d by the interrupted run, %d in all; want some, then 19", first.Totals().RowsPurged, n)
	}
}
