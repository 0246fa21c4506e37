package retention

import (
	"sort"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Rule is the retention rule of one collection as it applies to one tenant:
// the registry's window, or the tenant's shorter override.
type Rule struct {
	Collection string          `json:"collection"`
	Window     string          `json:"window"` // "30d", or "never"
	Timestamp  string          `json:"timestamp,omitempty"`
	Action     registry.Action `json:"action"`
	// RedactAfter is the age after which the rows' text is redacted (the
	// redact action), "" when the collection has none.
	RedactAfter string `json:"redact_after,omitempty"`
	// Source is "registry", or "tenant" when the tenant's override applies.
	Source         string   `json:"source"`
	RegistryWindow string   `json:"registry_window"`
	Responses      bool     `json:"responses"`
	Files          bool     `json:"files"`
	Categories     []string `json:"categories"`
	Purposes       []string `json:"purposes"`

	window time.Duration
	never  bool
}

// Rules returns the rule of every collection of reg that has one, sorted by
// collection, with the tenant's overrides (collection → window, already
// checked by CheckOverrides) applied: the narrowest window wins.
func Rules(reg *registry.Registry, overrides map[string]string) []Rule {
	var out []Rule
	for _, c := range reg.Order() {
		ret := c.Retention
		if ret == nil {
			continue
		}
		r := Rule{Collection: c.Key, Window: registry.FormatWindow(ret.Window, ret.Never), Timestamp: ret.Timestamp,
			Action: ret.Action, Source: "registry", RegistryWindow: registry.FormatWindow(ret.Window, ret.Never),
			Responses: c.Responses, Files: len(c.Files) > 0, Categories: categories(c), Purposes: append([]string{}, c.Purposes...),
			window: ret.Window, never: ret.Never}
		if ret.RedactAfter > 0 {
			r.RedactAfter = registry.FormatWindow(ret.RedactAfter, false)
		}
		if raw, ok := overrides[c.Key]; ok {
			if d, never, err := registry.ParseWindow(raw); err == nil && !never && (r.never || d < r.window) {
				r.Window, r.Source, r.window, r.never = registry.FormatWindow(d, false), "tenant", d, false
			}
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Collection < out[j].Collection })
	return out
}

func categories(c *registry.Collection) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, cat := range c.Categories {
		if !seen[cat] {
			seen[cat] = true
			out = append(out, cat)
		}
	}
	sort.Strings(out)
	return out
}

// CheckOverrides checks a tenant's retention overrides (collection →
// window) against reg and returns them normalised ("4w" stays "4w", " 7d"
// becomes "7d"). Errors: an EUNPROCESSABLE *dsr.Error naming the first bad
// entry: an unknown collection, one without a retention rule or timestamp,
// one the tenant's rows cannot be told apart in (no tenant column on it or
// on a parent in its store), a window that does not parse, or one longer
// than the registry's (a tenant may shorten a window, never lengthen it).
func CheckOverrides(reg *registry.Registry, overrides map[string]string) (map[string]string, error) {
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]string, len(overrides))
	for _, key := range keys {
		at := "retention." + key
		c := reg.Collections[key]
		switch {
		case c == nil:
			return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "%s: unknown collection; use one of the registry's <store>.<collection> names", at)
		case c.Retention == nil || c.Retention.Timestamp == "":
			return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "%s: the collection has no retention rule with a timestamp in the registry", at)
		case !reg.TenantScoped(c):
			return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "%s: the collection has no tenant column and hangs from no collection that has one", at)
		}
		d, never, err := registry.ParseWindow(overrides[key])
		if err != nil {
			return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "%s: %v", at, err)
		}
		ret := c.Retention
		if never || (!ret.Never && d > ret.Window) {
			return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "%s: %s is longer than the registry's %s; a tenant may only shorten a window",
				at, registry.FormatWindow(d, never), registry.FormatWindow(ret.Window, ret.Never))
		}
		out[key] = registry.FormatWindow(d, false)
	}
	return out, nil
}
