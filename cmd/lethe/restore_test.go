package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/anchor"
	"github.com/lethe-privacy/lethe/pkg/demo"
	"github.com/lethe-privacy/lethe/pkg/testdb"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

var restoreAuditKey = strings.Repeat("5e", 32)

// TestRestoredBackupResumes files an erasure, backs the state store up
// while the erasure waits on a processor (pg_dump on Postgres, lethe
// backup on SQLite, both as deploy/README.md says), lets it and a second
// erasure complete (their certificates checkpointed in the anchor), stops
// lethe serve and restores the backup into a fresh store. Lethe serve on
// the restored store must resume the in-flight erasure from its journal
// to the uninterrupted result (counts and application rows), and report
// that the anchor is ahead: in its log, on /readyz and in lethe audit
// verify, writing no checkpoint over the restored chain. The second
// erasure's row is gone with the restore; filed again, it finds nothing.
// After lethe audit accept-restore the audit verifies, /readyz is ready
// and new requests complete and are checkpointed.
func TestRestoredBackupResumes(t *testing.T) {
	seed := t.TempDir()
	if _, err := demo.Seed(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
	const inFlight, after = "ada@example.com", "grace@example.com"

	ref := newApp(t, seed, newHook(t, true).srv.URL, "sqlite://"+filepath.Join(t.TempDir(), "state.db"))
	refServe := ref.serve(t)
	want := refServe.waitEnded(t, refServe.fileErasure(t, inFlight), 30*time.Second)
	if w := refServe.waitEnded(t, refServe.fileErasure(t, after), 30*time.Second); want.Status != "completed" || w.Status != "completed" {
		t.Fatalf("uninterrupted erasures ended %s and %s; want completed", want.Status, w.Status)
	}
	kill(t, refServe)
	wantRows := dumpApp(t, ref.dir)

	t.Run("postgres", func(t *testing.T) {
		testRestore(t, seed, want, wantRows, testdb.PostgresDatabase(t), func(t *testing.T, a *app, stateURL, file string) {
			if out := mustRun(t, a.env, binary, "audit", "checkpoint"); !strings.Contains(out, "checkpoint of audit entry") {
				t.Errorf("lethe audit checkpoint said %q", out)
			}
			mustRun(t, a.env, "pg_dump", "--format=custom", "--file="+file, stateURL)
		}, func(t *testing.T, a *app, file string) string {
			restored := testdb.PostgresDatabase(t)
			mustRun(t, a.env, "pg_restore", "--no-owner", "--exit-on-error", "--dbname="+restored, file)
			return restored
		})
	})
	t.Run("sqlite", func(t *testing.T) {
		testRestore(t, seed, want, wantRows, "sqlite://"+filepath.Join(t.TempDir(), "state.db"), func(t *testing.T, a *app, stateURL, file string) {
			out := mustRun(t, a.env, binary, "backup", "--to", file)
			if !strings.Contains(out, "backed up the SQLite state store") || !strings.Contains(out, "backup checkpoint of audit entry") {
				t.Errorf("lethe backup said %q", out)
			}
			if out, err := exec.Command(binary, "backup", "--database-url", stateURL, "--to", file).CombinedOutput(); err == nil ||
				!strings.Contains(string(out), "already exists") {
				t.Errorf("lethe backup over an existing file: %v, %s; want a refusal", err, out)
			}
		}, func(t *testing.T, a *app, file string) string {
			restored := filepath.Join(t.TempDir(), "restored.db")
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(restored, b, 0o600); err != nil {
				t.Fatal(err)
			}
			return "sqlite://" + restored
		})
	})
}

func testRestore(t *testing.T, seed string, want request, wantRows map[string][]string, stateURL string,
	backup func(t *testing.T, a *app, stateURL, file string), restore func(t *testing.T, a *app, file string) string) {
	const inFlight, after, later = "ada@example.com", "grace@example.com", "alan@example.com"
	h := newHook(t, false)
	a := newApp(t, seed, h.srv.URL, stateURL)
	anchorDir := t.TempDir()
	a.env = append(a.env, "LETHE_AUDIT_KEY="+restoreAuditKey, "LETHE_AUDIT_ANCHOR_URL=file://"+anchorDir)
	first := a.serve(t)
	id := first.fileErasure(t, inFlight)
	waitHits(t, h, 1)
	file := filepath.Join(t.TempDir(), "lethe.backup")
	backup(t, a, stateURL, file)
	// The backup's head is anchored (the backup said so): the restored
	// chain ends at it.
	backupCheckpoint := checkpointFiles(t, anchorDir)
	if len(backupCheckpoint) == 0 {
		t.Fatal("no checkpoint after the backup")
	}
	backupSeq, err := strconv.ParseInt(strings.TrimSuffix(strings.Fields(backupCheckpoint[len(backupCheckpoint)-1])[0], ".json"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}

	h.confirm.Store(true)
	if r := first.waitEnded(t, id, 30*time.Second); r.Status != "completed" {
		t.Fatalf("the erasure in flight at the backup ended %s", r.Status)
	}
	lost := first.fileErasure(t, after)
	if r := first.waitEnded(t, lost, 30*time.Second); r.Status != "completed" {
		t.Fatalf("the erasure after the backup ended %s", r.Status)
	}
	anchored := checkpointFiles(t, anchorDir)
	if len(anchored) == 0 {
		t.Fatal("no checkpoint written before the restore")
	}
	kill(t, first)

	restored := restore(t, a, file)
	a.env = append(a.env, "LETHE_DATABASE_URL="+restored) // the last of a name wins
	s := a.serve(t)

	got := s.waitEnded(t, id, 30*time.Second)
	if got.Status != "completed" || got.Attempts != 2 || !reflect.DeepEqual(got.Counts, want.Counts) {
		t.Errorf("the restored in-flight erasure ended %s after %d attempts with counts %v; want completed after 2 with %v",
			got.Status, got.Attempts, got.Counts, want.Counts)
	}
	if rows := dumpApp(t, a.dir); !reflect.DeepEqual(rows, wantRows) {
		t.Errorf("application after the restore differs from both erasures run uninterrupted:\n got %v\nwant %v", rows, wantRows)
	}
	if code := s.call(t, "GET", "/v1/requests/"+lost, "", nil); code != http.StatusNotFound {
		t.Errorf("GET the request completed after the backup = %d; want 404: the restore lost its row", code)
	}

	// The anchor is ahead: said in the log, by lethe_audit_anchor_diverged
	// and by verify, while /readyz stays ready (a sidecar's application
	// stays in service); no checkpoint of the restored chain is written
	// over it.
	if log := s.stderr.String(); !strings.Contains(log, "audit anchor is ahead of the state store") || !strings.Contains(log, "accept-restore") {
		t.Errorf("the log does not say the anchor is ahead:\n%s", log)
	}
	var ready struct {
		Status string
		Checks map[string]string
	}
	if code := s.call(t, "GET", "/readyz", "", &ready); code != http.StatusOK {
		t.Errorf("/readyz = %d %+v; want ready: a divergence is alerted on, not a reason to leave the Service", code, ready)
	}
	s.waitMetric(t, "lethe_audit_anchor_diverged", nil, "on the restored store", equals(1))
	out, code := runCode(a.env, binary, "audit", "verify")
	if code != 1 || !strings.Contains(out, "BROKEN") || !strings.Contains(out, "accept-restore") {
		t.Errorf("lethe audit verify on the restored store: exit %d\n%s\nwant exit 1 pointing at accept-restore", code, out)
	}
	if now := checkpointFiles(t, anchorDir); !reflect.DeepEqual(now, anchored) {
		t.Errorf("checkpoints changed on the restored store before its acceptance:\n got %v\nwant %v", now, anchored)
	}

	// The restored chain ended at the backup checkpoint; the entries the
	// resumed erasure appended since are vouched for by no checkpoint:
	// accepted only once their number is stated.
	out, code = runCode(a.env, binary, "audit", "accept-restore", "--note", "restored the backup taken while a request ran")
	m := regexp.MustCompile(`(\d+) entries past the last anchored one \(entry (\d+)\).*--unanchored (\d+)`).FindStringSubmatch(out)
	if code != 1 || m == nil || m[2] != strconv.FormatInt(backupSeq, 10) || m[1] != m[3] {
		t.Fatalf("lethe audit accept-restore without --unanchored: exit %d\n%s\nwant exit 1 naming the entries past the backup checkpoint (entry %d)", code, out, backupSeq)
	}
	out = mustRun(t, a.env, binary, "audit", "accept-restore", "--note", "restored the backup taken while a request ran", "--unanchored", m[1])
	if !strings.Contains(out, "restore accepted as audit entry") || !strings.Contains(out, "lost with the restore") ||
		!strings.Contains(out, fmt.Sprintf("agrees with the anchor up to entry %d;", backupSeq)) || !strings.Contains(out, "--unanchored "+m[1]) {
		t.Errorf("lethe audit accept-restore said:\n%s", out)
	}
	superseded, err := filepath.Glob(filepath.Join(anchorDir, filepath.FromSlash(anchor.SupersededPrefix), "*", "*.json"))
	if err != nil || len(superseded) == 0 {
		t.Errorf("no checkpoint kept under %s: %v", anchor.SupersededPrefix, err)
	}
	if out := mustRun(t, a.env, binary, "audit", "verify"); !strings.Contains(out, "audit chain ok") {
		t.Errorf("lethe audit verify after the acceptance:\n%s", out)
	}
	// A process that found the chain diverged compares it with the anchor
	// again at most every minute, in the background of a scrape, and the
	// next scrape reports it: up to a minute and a check after the
	// acceptance.
	s.waitMetricWithin(t, 150*time.Second, "lethe_audit_anchor_diverged", nil, "after the acceptance", equals(0))

	// New requests work; the lost one, filed again, finds nothing left.
	again := s.waitEnded(t, s.fileErasure(t, after), 30*time.Second)
	if again.Status != "completed" || appRows(again.Counts) != 0 || again.Counts["vendor.notified"] != 1 {
		t.Errorf("the lost erasure filed again ended %s with counts %v; want completed with nothing found, the processor told again", again.Status, again.Counts)
	}
	before := checkpointFiles(t, anchorDir)
	if r := s.waitEnded(t, s.fileErasure(t, later), 30*time.Second); r.Status != "completed" || appRows(r.Counts) == 0 {
		t.Errorf("a new erasure ended %s with counts %v; want completed, rows erased", r.Status, r.Counts)
	}
	testkit.Eventually(t, 10*time.Second, "a checkpoint of the new erasure", func() error {
		if now := checkpointFiles(t, anchorDir); len(now) <= len(before) {
			return fmt.Errorf("%d checkpoints, as before", len(now))
		}
		return nil
	})
	if out := mustRun(t, a.env, binary, "audit", "verify"); !strings.Contains(out, "audit chain ok") {
		t.Errorf("lethe audit verify after new requests:\n%s", out)
	}
}

// appRows sums the counts of the application's stores, the processor's
// notice left out.
func appRows(counts map[string]int64) (n int64) {
	for k, c := range counts {
		if !strings.HasPrefix(k, "vendor.") {
			n += c
		}
	}
	return n
}

// checkpointFiles lists the checkpoint objects of a file:// anchor.
func checkpointFiles(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, filepath.FromSlash(anchor.Prefix), "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, filepath.Base(p)+" "+string(b))
	}
	slices.Sort(out)
	return out
}

// mustRun runs a command with env and returns its output; it must succeed.
func mustRun(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	out, code := runCode(env, name, args...)
	if code != 0 {
		t.Fatalf("%s %s: exit %d\n%s", name, strings.Join(args, " "), code, out)
	}
	return out
}

func runCode(env []string, name string, args ...string) (string, int) {
	cmd := exec.Command(name, args...)
	cmd.Env = env
	out, _ := cmd.CombinedOutput()
	return string(out), cmd.ProcessState.ExitCode()
}
