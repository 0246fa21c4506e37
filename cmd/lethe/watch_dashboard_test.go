package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// dashboardPanel is what the test reads of a Grafana panel.
type dashboardPanel struct {
	Type       string           `json:"type"`
	Title      string           `json:"title"`
	Datasource json.RawMessage  `json:"datasource"`
	Panels     []dashboardPanel `json:"panels"` // a row's, when collapsed
	Targets    []struct {
		Expr       string          `json:"expr"`
		Datasource json.RawMessage `json:"datasource"`
	} `json:"targets"`
}

// grafanaRanges are the interval variables Grafana fills in before a query
// reaches Prometheus.
var grafanaRanges = strings.NewReplacer("$__rate_interval", "5m", "${__rate_interval}", "5m", "$__interval", "1m", "$__range", "1d")

// dashboardProblems checks a Grafana dashboard: it decodes; its data source
// is a variable of type datasource, which every panel and target uses (no
// data source uid written in); every panel but a row has a query; every
// query parses as PromQL and names only metrics in fams.
func dashboardProblems(content []byte, fams map[string]*dto.MetricFamily) []string {
	var d struct {
		Title      string           `json:"title"`
		Panels     []dashboardPanel `json:"panels"`
		Templating struct {
			List []struct{ Type, Name string } `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(content, &d); err != nil {
		return []string{"decode: " + err.Error()}
	}
	var out []string
	var vars []string
	for _, v := range d.Templating.List {
		if v.Type == "datasource" {
			vars = append(vars, v.Name)
		}
	}
	if len(vars) == 0 {
		out = append(out, "no data source variable in templating")
	}
	usesVar := func(raw json.RawMessage) bool {
		var ds struct{ UID string }
		if json.Unmarshal(raw, &ds) != nil {
			var name string // the older form: the data source's name
			if json.Unmarshal(raw, &name) != nil {
				return false
			}
			ds.UID = name
		}
		return slices.Contains(vars, strings.Trim(ds.UID, "${}"))
	}
	var walk func(ps []dashboardPanel)
	n := 0
	walk = func(ps []dashboardPanel) {
		for _, p := range ps {
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			n++
			if !usesVar(p.Datasource) {
				out = append(out, fmt.Sprintf("panel %q: data source %s is not the dashboard's variable", p.Title, p.Datasource))
			}
			if len(p.Targets) == 0 {
				out = append(out, fmt.Sprintf("panel %q: no query", p.Title))
			}
			for _, tg := range p.Targets {
				if len(tg.Datasource) > 0 && !usesVar(tg.Datasource) {
					out = append(out, fmt.Sprintf("panel %q: target data source %s is not the dashboard's variable", p.Title, tg.Datasource))
				}
				missing, err := unexposed(grafanaRanges.Replace(tg.Expr), fams)
				if err != nil {
					out = append(out, fmt.Sprintf("panel %q: %s: %v", p.Title, tg.Expr, err))
				}
				for _, name := range missing {
					out = append(out, fmt.Sprintf("panel %q: metric %s is not on lethe serve's /metrics", p.Title, name))
				}
			}
		}
	}
	walk(d.Panels)
	if n == 0 {
		out = append(out, "no panels")
	}
	return out
}

// TestGrafanaDashboard checks deploy/grafana/lethe.json against what a
// running lethe serve exposes, and that the check catches a typo'd metric,
// broken PromQL and a data source written in.
func TestGrafanaDashboard(t *testing.T) {
	fams := exposedMetrics(t)
	dash := string(readDeploy(t, "grafana/lethe.json"))
	checkMutations(t, "lethe.json", dash, func(b []byte) []string { return dashboardProblems(b, fams) }, []mutation{
		{name: "as written"},
		{name: "typo'd metric", from: "max(lethe_processes_stale)", to: "max(lethe_process_stale)",
			want: `panel "Live and stale processes": metric lethe_process_stale is not on`},
		{name: "typo'd histogram", from: "rate(lethe_retention_batch_duration_seconds_bucket[", to: "rate(lethe_retention_batch_seconds_bucket[",
			want: "metric lethe_retention_batch_seconds_bucket is not on"},
		{name: "broken PromQL", from: `"expr": "min(lethe_audit_verified)"`, to: `"expr": "min(lethe_audit_verified"`,
			want: `panel "Audit trail verified": min(lethe_audit_verified:`},
		{name: "data source written in", from: `"uid": "${datasource}"`, to: `"uid": "P1809F7CD0C75ACF3"`,
			want: "is not the dashboard's variable"},
	})
}
