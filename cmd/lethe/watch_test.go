package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/lethe-privacy/lethe/pkg/demo"
	"github.com/lethe-privacy/lethe/pkg/testdb"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// watchAuditKey signs the audit checkpoints of the tests below.
const watchAuditKey = "8f3c2a1b0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a"

// scrape reads s's /metrics in the Prometheus text format.
func (s *demoServer) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(s.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d", res.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return fams
}

// metricValue is the value of the series of family name whose labels
// include want; an error when there is none.
func metricValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, error) {
next:
	for _, m := range fams[name].GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), nil
		case m.Counter != nil:
			return m.GetCounter().GetValue(), nil
		}
	}
	return 0, fmt.Errorf("no series %s%v", name, want)
}

// waitMetric polls s's /metrics until series name{labels} satisfies ok.
func (s *demoServer) waitMetric(t *testing.T, name string, labels map[string]string, what string, ok func(float64) bool) {
	t.Helper()
	s.waitMetricWithin(t, 60*time.Second, name, labels, what, ok)
}

// waitMetricWithin is waitMetric with a wait of d.
func (s *demoServer) waitMetricWithin(t *testing.T, d time.Duration, name string, labels map[string]string, what string, ok func(float64) bool) {
	t.Helper()
	testkit.Eventually(t, d, fmt.Sprintf("%s%v %s", name, labels, what), func() error {
		v, err := metricValue(s.scrape(t), name, labels)
		if err != nil {
			return err
		}
		if !ok(v) {
			return fmt.Errorf("%s%v = %v", name, labels, v)
		}
		return nil
	})
}

func equals(want float64) func(float64) bool { return func(v float64) bool { return v == want } }

// watchApp is the demo application with two processors: vendor, whose
// webhook refuses until told, and strict, told after vendor, which
// confirms until told otherwise and gives up after two seconds; an
// anchored audit trail verified every second; and the state store at
// stateURL.
func watchApp(t *testing.T, stateURL string) (a *app, vendor, strict *hook) {
	t.Helper()
	seed := t.TempDir()
	if _, err := demo.Seed(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
	vendor, strict = newHook(t, false), newHook(t, true)
	a = newApp(t, seed, vendor.srv.URL, stateURL)
	reg, err := os.ReadFile(a.registry)
	if err != nil {
		t.Fatal(err)
	}
	reg = []byte(strings.Replace(string(reg), "stores:\n",
		fmt.Sprintf("stores:\n  zz-strict: {kind: processor, webhook: %q, secret_env: HOOK_SECRET, deadline: 2s}\n", strict.srv.URL), 1))
	if err := os.WriteFile(a.registry, reg, 0o600); err != nil {
		t.Fatal(err)
	}
	a.env = append(a.env, "LETHE_AUDIT_KEY="+watchAuditKey, "LETHE_AUDIT_ANCHOR_URL=file://"+filepath.Join(a.dir, "anchor"),
		"LETHE_AUDIT_VERIFY_EVERY=1s")
	return a, vendor, strict
}

// TestWatchMetrics makes, for real, each thing the alerts of
// deploy/prometheus/alerts.yaml watch for, on a SQLite and on a Postgres
// state store, and sees its metric move on lethe serve's /metrics: an
// erasure waiting on a processor's confirmation, a failed request, a
// failed sweep, a process that stops beating (and one that stops cleanly,
// which must not count), and an audit entry edited in the state store.
// No label anywhere carries an email.
func TestWatchMetrics(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			stateURL := "sqlite://" + filepath.Join(t.TempDir(), "state.db")
			driver, dsn := "sqlite", strings.TrimPrefix(stateURL, "sqlite://")
			if dialect == "postgres" {
				stateURL = testdb.Postgres(t)
				driver, dsn = "pgx", stateURL
			}
			stateDB, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer stateDB.Close()
			a, h, strict := watchApp(t, stateURL)
			s := a.serve(t)

			s.waitMetric(t, "lethe_audit_verified", nil, "once verified", equals(1))
			s.waitMetric(t, "lethe_processes_live", nil, "with one process", equals(1))
			s.waitMetric(t, "lethe_processes_stale", nil, "with none gone", equals(0))
			s.waitMetric(t, "lethe_retention_last_failure_timestamp_seconds", nil, "before any sweep", equals(0))

			// An erasure waits for the processor, which refuses, then confirms.
			pending := map[string]string{"processor": "vendor"}
			s.waitMetric(t, "lethe_processor_confirmations_pending", pending, "before any erasure", equals(0))
			id := s.fileErasure(t, "ada@example.com")
			s.waitMetric(t, "lethe_processor_confirmations_pending", pending, "while the processor refuses", equals(1))
			h.confirm.Store(true)
			if r := s.waitEnded(t, id, 60*time.Second); r.Status != "completed" {
				t.Fatalf("erasure %s, want completed", r.Status)
			}
			s.waitMetric(t, "lethe_processor_confirmations_pending", pending, "once confirmed", equals(0))

			// The strict processor stops confirming: the next erasure fails.
			failed := map[string]string{"type": "erasure", "status": "failed"}
			if _, err := metricValue(s.scrape(t), "lethe_requests", failed); err == nil {
				t.Fatal("a failed erasure before any failed")
			}
			strict.confirm.Store(false)
			id = s.fileErasure(t, "grace@example.com")
			if r := s.waitEnded(t, id, 60*time.Second); r.Status != "failed" {
				t.Fatalf("erasure unconfirmed by a processor %s, want failed", r.Status)
			}
			s.waitMetric(t, "lethe_requests", failed, "after the failure", equals(1))

			// The application loses a table: the next sweep fails.
			appDB, err := sql.Open("sqlite", filepath.Join(a.dir, "app.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer appDB.Close()
			if _, err := appDB.Exec(`ALTER TABLE uploads RENAME TO uploads_moved`); err != nil {
				t.Fatal(err)
			}
			before := time.Now().Unix()
			var run struct{ ID string }
			if code := s.call(t, "POST", "/v1/retention/runs", `{}`, &run); code != http.StatusAccepted {
				t.Fatalf("POST /v1/retention/runs = %d", code)
			}
			s.waitMetric(t, "lethe_retention_last_failure_timestamp_seconds", nil, "after the failed sweep",
				func(v float64) bool { return v >= float64(before) })
			if v, _ := metricValue(s.scrape(t), "lethe_retention_last_success_timestamp_seconds", nil); v != 0 {
				t.Errorf("lethe_retention_last_success_timestamp_seconds = %v, want 0: no sweep completed", v)
			}
			if _, err := appDB.Exec(`ALTER TABLE uploads_moved RENAME TO uploads`); err != nil { // lethe serve starts again
				t.Fatal(err)
			}

			// An entry of the trail is edited in the state store.
			s.waitMetric(t, "lethe_audit_verified", nil, "before the edit", equals(1))
			if _, err := stateDB.Exec(`UPDATE lethe_audit SET actor = 'someone-else' WHERE seq = 2`); err != nil {
				t.Fatal(err)
			}
			edited := time.Now().Unix()
			s.waitMetric(t, "lethe_audit_verified", nil, "after the edit", equals(0))
			s.waitMetric(t, "lethe_audit_last_verified_timestamp_seconds", nil, "after the edit",
				func(v float64) bool { return v >= float64(edited) })

			// A process stops cleanly: it leaves no stale row. One is killed:
			// it is stale three beats later.
			if dialect == "postgres" {
				other := a.serve(t)
				s.waitMetric(t, "lethe_processes_live", nil, "with a second replica", equals(2))
				stop(t, other)
				s.waitMetric(t, "lethe_processes_live", nil, "after a clean stop", equals(1))
				time.Sleep(4 * 250 * time.Millisecond) // past three beats: a row left behind is stale by now
				if v, _ := metricValue(s.scrape(t), "lethe_processes_stale", nil); v != 0 {
					t.Errorf("lethe_processes_stale = %v after a clean stop, want 0", v)
				}
				other = a.serve(t)
				s.waitMetric(t, "lethe_processes_live", nil, "with a second replica again", equals(2))
				kill(t, other)
			} else { // one process serves a SQLite file: the next one sees what the last left
				stop(t, s)
				s = a.serve(t)
				s.waitMetric(t, "lethe_processes_live", nil, "after a clean stop and a restart", equals(1))
				if v, _ := metricValue(s.scrape(t), "lethe_processes_stale", nil); v != 0 {
					t.Errorf("lethe_processes_stale = %v after a clean stop, want 0", v)
				}
				kill(t, s)
				s = a.serve(t)
			}
			s.waitMetric(t, "lethe_processes_stale", nil, "after a kill", equals(1))
			s.waitMetric(t, "lethe_processes_live", nil, "after a kill", equals(1))

			for name, fam := range s.scrape(t) {
				for _, m := range fam.GetMetric() {
					for _, l := range m.GetLabel() {
						if strings.Contains(l.GetValue(), "@") {
							t.Errorf("%s has a label %s=%q", name, l.GetName(), l.GetValue())
						}
					}
				}
			}
		})
	}
}

// stop ends s with SIGTERM, as an orchestrator does, and waits for it.
func stop(t *testing.T, s *demoServer) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("lethe serve after SIGTERM: %v\n%s", err, s.stderr.String())
	}
}

// TestAuditVerifyEveryBounds: lethe serve refuses a LETHE_AUDIT_VERIFY_EVERY
// that is not a duration from 1s to 24h before opening anything, naming
// the variable.
func TestAuditVerifyEveryBounds(t *testing.T) {
	for _, raw := range []string{"often", "500ms", "25h"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a serve that starts is killed
		defer cancel()
		cmd := exec.CommandContext(ctx, binary, "serve", "--addr", "127.0.0.1:0")
		cmd.Env = append(withoutLetheEnv(), "LETHE_DATABASE_URL=sqlite://"+filepath.Join(t.TempDir(), "state.db"),
			"LETHE_SUBJECT_KEY=watch-test-subject-key-of-32-characters", "LETHE_AUDIT_VERIFY_EVERY="+raw)
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(out), "LETHE_AUDIT_VERIFY_EVERY") {
			t.Errorf("LETHE_AUDIT_VERIFY_EVERY=%s: exit %d, %q; want 2 and the variable named", raw, code, out)
		}
	}
}
