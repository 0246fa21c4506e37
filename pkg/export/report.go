package export

import (
	_ "embed"
	"fmt"
	"html/template"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

//go:embed report.html.tmpl
var reportSource string

var reportTemplate = template.Must(template.New("report").Parse(reportSource))

// Report is what report.html shows: everything comes from the registry and
// the counts of this package.
type Report struct {
	RequestID   string
	Email       string
	Tenant      string
	CreatedAt   string
	ExpiresAt   string
	Holdings    []Holding
	Files       []SourceCount
	Keys        []SourceCount
	Refused     int
	Purposes    []Named
	Recipients  []Named
	Sources     []Named
	HasRetained bool
}

// Holding is one collection as the report tells it.
type Holding struct {
	What       string // the data categories, in words
	Collection string
	Rows       int64
	Purposes   []string
	Kept       string // how long it is kept, in words
	Source     string
}

// SourceCount is a number of files or keys from one store.
type SourceCount struct {
	Store string
	N     int64
}

// Named is a name with its description.
type Named struct{ Name, Description string }

// buildReport gathers the report from the registry and the counts.
func buildReport(reg *registry.Registry, info PackageInfo, rows map[string]int64, counts map[string]int64, refused int) *Report {
	r := &Report{RequestID: info.RequestID, Email: info.Email, Tenant: info.Tenant,
		CreatedAt: info.CreatedAt.UTC().Format("2 January 2006, 15:04 MST"),
		ExpiresAt: info.ExpiresAt.UTC().Format("2 January 2006, 15:04 MST"), Refused: refused}
	for _, c := range reg.Order() {
		n, ok := rows[c.Key]
		if !ok {
			continue
		}
		h := Holding{What: categories(c), Collection: c.Key, Rows: n, Kept: kept(c),
			Source: fmt.Sprintf("the %s database %q, table %s", reg.Stores[c.Store].Driver, c.Store, c.Table)}
		for _, p := range c.Purposes {
			h.Purposes = append(h.Purposes, reg.Purposes[p])
		}
		if len(h.Purposes) == 0 {
			h.Purposes = []string{"not stated in the registry"}
		}
		r.Holdings = append(r.Holdings, h)
	}
	for _, name := range sortedNames(reg.Stores) {
		st := reg.Stores[name]
		switch st.Kind {
		case registry.KindBlob:
			r.Files = append(r.Files, SourceCount{Store: name, N: counts[name+".files"]})
			r.Sources = append(r.Sources, Named{name, "file storage (" + scheme(st.URL) + ")"})
		case registry.KindRedis:
			r.Keys = append(r.Keys, SourceCount{Store: name, N: counts[name+".keys"]})
			r.Sources = append(r.Sources, Named{name, "a Redis cache (sessions, rate limits and similar short-lived data)"})
		case registry.KindSQL:
			r.Sources = append(r.Sources, Named{name, "a " + st.Driver + " database"})
		case registry.KindMongo:
			r.Sources = append(r.Sources, Named{name, "a MongoDB database"})
		case registry.KindProcessor:
			desc := reg.Recipients[name]
			if desc == "" {
				desc = "a processor that receives data from this service"
			}
			endpoint := st.Webhook + st.OpenDSR
			if u, err := url.Parse(endpoint); err == nil {
				desc += " (" + u.Host + "); it is told when your data is erased"
			}
			r.Recipients = append(r.Recipients, Named{name, desc})
		}
	}
	for _, name := range sortedNames(reg.Recipients) {
		if st := reg.Stores[name]; st != nil && st.Kind == registry.KindProcessor {
			continue
		}
		r.Recipients = append(r.Recipients, Named{name, reg.Recipients[name]})
	}
	for _, name := range sortedNames(reg.Purposes) {
		r.Purposes = append(r.Purposes, Named{name, reg.Purposes[name]})
	}
	return r
}

// categories names a collection's data categories in words:
// user.contact.email becomes "contact email".
func categories(c *registry.Collection) string {
	seen := map[string]bool{}
	var out []string
	for _, col := range sortedNames(c.Categories) {
		words := strings.ReplaceAll(strings.TrimPrefix(c.Categories[col], "user."), ".", " ")
		words = strings.ReplaceAll(words, "_", " ")
		if !seen[words] {
			seen[words] = true
			out = append(out, words)
		}
	}
	if len(out) == 0 {
		return "records linked to your account (" + c.Name + ")"
	}
	return strings.Join(out, ", ")
}

// kept says how long a collection's rows are kept.
func kept(c *registry.Collection) string {
	switch {
	case c.Retention != nil && c.Retention.Never:
		return "kept until you ask for erasure"
	case c.Retention != nil:
		verb := "deleted"
		if c.Retention.Action == registry.ActionAnonymize {
			verb = "anonymised"
		}
		return fmt.Sprintf("%s %s after it is recorded (retention window %s)", verb, words(c.Retention.Window), registry.FormatWindow(c.Retention.Window, false))
	case c.Erasure.Action == registry.ActionKeep:
		return "kept even after an erasure request: " + c.Erasure.KeepReason
	}
	return "no fixed period: kept while your account exists, deleted when you ask for erasure"
}

// words writes a window in plain language: "30 days", "12 hours".
func words(d time.Duration) string {
	for _, u := range []struct {
		name string
		d    time.Duration
	}{{"week", 7 * 24 * time.Hour}, {"day", 24 * time.Hour}, {"hour", time.Hour}, {"minute", time.Minute}} {
		if d%u.d == 0 {
			n := int64(d / u.d)
			if n == 1 {
				return "1 " + u.name
			}
			return fmt.Sprintf("%d %ss", n, u.name)
		}
	}
	return d.String()
}

func scheme(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" {
		return u.Scheme
	}
	return "blob"
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// report writes report.html.
func (b *builder) report() error {
	rows := map[string]int64{}
	for _, it := range b.a.Plan.Collections {
		rows[it.Store+"."+it.Collection] = it.Count
	}
	rep := buildReport(b.a.Registry, b.info, rows, b.counts, len(b.refused))
	hw, err := b.create("report.html")
	if err != nil {
		return err
	}
	if err := reportTemplate.Execute(hw, rep); err != nil {
		return fmt.Errorf("export: report.html: %w", err)
	}
	b.entries = append(b.entries, hw.entry("report.html"))
	return nil
}
