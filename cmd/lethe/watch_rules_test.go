package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

var (
	exposedOnce sync.Once
	exposed     map[string]*dto.MetricFamily
)

// exposedMetrics scrapes, once for the tests of this file, a lethe serve on
// a SQLite state store that has run what brings every metric out: a
// completed sweep, an erasure waiting on its processor, a verification of
// the audit trail.
func exposedMetrics(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	exposedOnce.Do(func() {
		a, _, _ := watchApp(t, "sqlite://"+filepath.Join(t.TempDir(), "state.db"))
		s := a.serve(t)
		var run struct{ ID string }
		if code := s.call(t, "POST", "/v1/retention/runs", `{}`, &run); code != http.StatusAccepted {
			t.Fatalf("POST /v1/retention/runs = %d", code)
		}
		s.waitMetric(t, "lethe_retention_last_success_timestamp_seconds", nil, "after a sweep", func(v float64) bool { return v > 0 })
		s.fileErasure(t, "ada@example.com")
		s.waitMetric(t, "lethe_processor_confirmations_pending", map[string]string{"processor": "vendor"}, "with an erasure waiting", equals(1))
		s.waitMetric(t, "lethe_audit_verified", nil, "once verified", equals(1))
		exposed = s.scrape(t)
	})
	if exposed == nil {
		t.Fatal("no scrape of lethe serve (see the first test of this file)")
	}
	return exposed
}

// metricNames returns the metric names expr selects. Errors: PromQL that
// does not parse.
func metricNames(expr string) ([]string, error) {
	node, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var names []string
	parser.Inspect(node, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			name := vs.Name
			for _, m := range vs.LabelMatchers {
				if m.Name == model.MetricNameLabel {
					name = m.Value
				}
			}
			names = append(names, name)
		}
		return nil
	})
	return names, nil
}

// unexposed returns the names of expr's metrics that fams lacks: a
// histogram's _bucket, _sum and _count count as its family.
func unexposed(expr string, fams map[string]*dto.MetricFamily) ([]string, error) {
	names, err := metricNames(expr)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, name := range names {
		if fams[name] != nil {
			continue
		}
		found := false
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if f := fams[strings.TrimSuffix(name, suffix)]; strings.HasSuffix(name, suffix) && f != nil &&
				(f.GetType() == dto.MetricType_HISTOGRAM || f.GetType() == dto.MetricType_SUMMARY) {
				found = true
			}
		}
		if !found {
			out = append(out, name)
		}
	}
	return out, nil
}

// headingAnchors returns the anchors GitHub gives the headings of a
// Markdown file: lower case, punctuation dropped, spaces as hyphens.
func headingAnchors(markdown string) map[string]bool {
	out := map[string]bool{}
	drop := regexp.MustCompile(`[^\p{L}\p{N} _-]`)
	for _, line := range strings.Split(markdown, "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		out[strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(title), ""), " ", "-")] = true
	}
	return out
}

// ruleProblems checks a rules file: rulefmt finds no error; every rule is
// an alert with a for:, a severity of critical or warning, a summary, a
// description and a runbook_url whose anchor is a heading of readme; and
// every metric its expression names is in fams.
func ruleProblems(content []byte, fams map[string]*dto.MetricFamily, readme string) []string {
	var out []string
	groups, errs := rulefmt.Parse(content, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, err := range errs {
		out = append(out, "rulefmt: "+err.Error())
	}
	if groups == nil {
		return out
	}
	anchors := headingAnchors(readme)
	n := 0
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" {
				out = append(out, fmt.Sprintf("rule %q is not an alert", r.Record))
				continue
			}
			if r.For <= 0 {
				out = append(out, r.Alert+": no for:")
			}
			if sev := r.Labels["severity"]; sev != "critical" && sev != "warning" {
				out = append(out, fmt.Sprintf("%s: severity %q, want critical or warning", r.Alert, sev))
			}
			for _, a := range []string{"summary", "description", "runbook_url"} {
				if r.Annotations[a] == "" {
					out = append(out, r.Alert+": no "+a+" annotation")
				}
			}
			if url := r.Annotations["runbook_url"]; url != "" {
				doc, anchor, _ := strings.Cut(url, "#")
				if !strings.HasSuffix(doc, "/deploy/README.md") || !anchors[anchor] {
					out = append(out, fmt.Sprintf("%s: runbook_url %s is no heading of deploy/README.md", r.Alert, url))
				}
			}
			missing, err := unexposed(r.Expr, fams)
			if err != nil {
				out = append(out, fmt.Sprintf("%s: expr: %v", r.Alert, err))
			}
			for _, name := range missing {
				out = append(out, fmt.Sprintf("%s: metric %s is not on lethe serve's /metrics", r.Alert, name))
			}
		}
	}
	if n == 0 {
		out = append(out, "no rules")
	}
	return out
}

// mutation is a change to a checked file and the problem its check must
// then report; the first case of a table is the file as written.
type mutation struct {
	name, from, to string
	want           string // a problem that must be reported; "" none at all
}

// checkMutations runs problems on content changed by each case: none as
// written, the one wanted after each change.
func checkMutations(t *testing.T, file, content string, problems func([]byte) []string, cases []mutation) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			changed := content
			if tc.from != "" {
				if !strings.Contains(changed, tc.from) {
					t.Fatalf("%s no longer holds %q: update the case", file, tc.from)
				}
				changed = strings.Replace(changed, tc.from, tc.to, 1)
			}
			got := problems([]byte(changed))
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("%s:\n%s", file, strings.Join(got, "\n"))
			case tc.want != "" && !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, tc.want) }):
				t.Errorf("no problem %q reported; got %q", tc.want, got)
			}
		})
	}
}

func readDeploy(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAlertRules checks deploy/prometheus/alerts.yaml with Prometheus's
// own rule parser against what a running lethe serve exposes and the
// runbook's headings, and that the check catches a typo'd metric, broken
// PromQL, an anchor with no heading and a missing for:.
func TestAlertRules(t *testing.T) {
	fams := exposedMetrics(t)
	rules, readme := string(readDeploy(t, "prometheus/alerts.yaml")), string(readDeploy(t, "README.md"))
	checkMutations(t, "alerts.yaml", rules, func(b []byte) []string { return ruleProblems(b, fams, readme) }, []mutation{
		{name: "as written"},
		{name: "typo'd metric", from: "max(lethe_requests_overdue)", to: "max(lethe_request_overdue)",
			want: "LetheRequestsOverdue: metric lethe_request_overdue is not on lethe serve's /metrics"},
		{name: "typo'd metric in a selector", from: `lethe_periodic_runs_total{status="failed"}`, to: `lethe_periodic_run_total{status="failed"}`,
			want: "metric lethe_periodic_run_total is not on"},
		{name: "broken PromQL", from: "max(lethe_processes_stale) > 0", to: "max(lethe_processes_stale) >", want: "rulefmt:"},
		{name: "anchor without heading", from: "README.md#letheheartbeatsmissing", to: "README.md#lethe-heartbeats",
			want: "LetheHeartbeatsMissing: runbook_url"},
		{name: "no for", from: "        for: 15m\n        labels:\n          severity: critical", to: "        labels:\n          severity: critical",
			want: "LetheRequestsOverdue: no for:"},
	})
}

// TestAlertRulesHaveRunbooks checks that every alert has its own ###
// section under "## Runbook" in deploy/README.md, and that every metric
// an alert reads is named under "## What to watch".
func TestAlertRulesHaveRunbooks(t *testing.T) {
	groups, errs := rulefmt.Parse(readDeploy(t, "prometheus/alerts.yaml"), false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	readme := string(readDeploy(t, "README.md"))
	watch, runbook := section(readme, "## What to watch"), section(readme, "## Runbook")
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if !strings.Contains(runbook, "\n### "+r.Alert+"\n") {
				t.Errorf("no ### %s under ## Runbook", r.Alert)
			}
			names, _ := metricNames(r.Expr)
			for _, name := range names {
				if !strings.Contains(watch, "`"+name+"`") && !strings.Contains(watch, "`"+name+"{") {
					t.Errorf("%s reads %s, which ## What to watch does not explain", r.Alert, name)
				}
			}
		}
	}
}

// section returns the text of a level-2 section of markdown, up to the
// next one.
func section(markdown, heading string) string {
	_, rest, ok := strings.Cut(markdown, "\n"+heading+"\n")
	if !ok {
		return ""
	}
	if i := strings.Index(rest, "\n## "); i >= 0 {
		rest = rest[:i]
	}
	return "\n" + rest
}
