package engine

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/redact"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// subjectRE matches a value the hmac strategy already wrote, so that
// rewriting a row twice (a resumed batch) leaves it as once.
var subjectRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// anonymization turns c's anonymised fields into the rewrite the store
// applies: constant columns are set in one UPDATE, hmac columns and JSON
// columns are read and rewritten row by row.
func (r *run) anonymization(c *registry.Collection) (connector.Anonymization, error) {
	an := connector.Anonymization{Set: map[string]*string{}}
	whole := map[string]registry.Field{}
	paths := map[string][]registry.Field{}
	for _, f := range c.Erasure.Fields {
		if f.Strategy == registry.StrategyHMAC && r.e.Hasher == nil {
			return an, dsr.Errorf(dsr.EUNPROCESSABLE, "collection %s: the hmac strategy needs a subject key (LETHE_SUBJECT_KEY)", c.Key)
		}
		if f.Path == nil {
			whole[f.Column] = f
		} else {
			paths[f.Column] = append(paths[f.Column], f)
		}
	}
	for col, f := range whole {
		switch {
		case f.Strategy == registry.StrategyHMAC || r.pseudonymKind(c, f) != "":
			an.Rewrite = append(an.Rewrite, col)
		default:
			an.Set[col] = constant(f)
		}
	}
	for col := range paths {
		if _, ok := whole[col]; !ok {
			an.Rewrite = append(an.Rewrite, col)
		}
	}
	slices.Sort(an.Rewrite)
	an.Edit = func(col string, old *string) (*string, error) {
		if old == nil {
			return nil, nil
		}
		if f, ok := whole[col]; ok { // hmac and pseudonymised columns are rewritten whole
			if k := r.pseudonymKind(c, f); k != "" {
				v, _ := r.e.Redactors.For(r.tenant).Whole(k, *old)
				return &v, nil
			}
			h := r.hmac(*old)
			return &h, nil
		}
		doc, err := registry.DecodeDocument(*old)
		if err != nil {
			return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "collection %s: column %s of a row holds no valid JSON; fix the row or the registry", c.Key, col)
		}
		for _, f := range paths[col] {
			kind := r.pseudonymKind(c, f)
			doc, _ = f.Path.Rewrite(doc, func(v any) any { return r.rewriteJSON(f, kind, v) })
		}
		out, err := registry.EncodeDocument(doc)
		if err != nil {
			return nil, fmt.Errorf("collection %s: encode column %s: %w", c.Key, col, err)
		}
		return &out, nil
	}
	return an, nil
}

func constant(f registry.Field) *string {
	switch f.Strategy {
	case registry.StrategyRedact:
		s := registry.Redacted
		return &s
	case registry.StrategyFixed:
		s := f.Fixed
		return &s
	}
	return nil
}

// hmac returns the pseudonym of v (SubjectHasher.Anonymize), or v when it
// already is one.
func (r *run) hmac(v string) string {
	if subjectRE.MatchString(v) {
		return v
	}
	return r.e.Hasher.Anonymize(v)
}

// pseudonymKind returns the kind of pseudonym the redact strategy writes
// in f, whose category identifies a person, or "" when it writes
// registry.Redacted.
func (r *run) pseudonymKind(c *registry.Collection, f registry.Field) redact.Kind {
	if f.Strategy != registry.StrategyRedact || r.e.Redactors == nil {
		return ""
	}
	return redact.Kind(c.PseudonymKind(f))
}

func (r *run) rewriteJSON(f registry.Field, kind redact.Kind, v any) any {
	switch f.Strategy {
	case registry.StrategyNull:
		return nil
	case registry.StrategyRedact:
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case json.Number:
			s = x.String()
		}
		if kind == "" || s == "" {
			return registry.Redacted
		}
		out, _ := r.e.Redactors.For(r.tenant).Whole(kind, s)
		return out
	case registry.StrategyFixed:
		return f.Fixed
	}
	if v == nil {
		return nil
	}
	if s, ok := v.(string); ok {
		return r.hmac(s)
	}
	b, _ := json.Marshal(v)
	return r.hmac(string(b))
}

// anonymizedColumns returns the columns c's anonymised fields live in.
func anonymizedColumns(c *registry.Collection) []string {
	var cols []string
	for _, f := range c.Erasure.Fields {
		if !slices.Contains(cols, f.Column) {
			cols = append(cols, f.Column)
		}
	}
	return cols
}

// holdsEmail reports whether an anonymised field of a row (values in the
// order of cols) still contains email, both folded by dsr.FoldEmail as
// stores match addresses.
func holdsEmail(c *registry.Collection, cols []string, vals []*string, email string) bool {
	needle := dsr.FoldEmail(email)
	for _, f := range c.Erasure.Fields {
		v := vals[slices.Index(cols, f.Column)]
		if v == nil {
			continue
		}
		if f.Path == nil {
			if strings.Contains(dsr.FoldEmail(*v), needle) {
				return true
			}
			continue
		}
		doc, err := registry.DecodeDocument(*v)
		if err != nil {
			if strings.Contains(dsr.FoldEmail(*v), needle) {
				return true
			}
			continue
		}
		for _, found := range f.Path.Find(doc) {
			b, _ := json.Marshal(found)
			if s, ok := found.(string); ok {
				b = []byte(s)
			}
			if strings.Contains(dsr.FoldEmail(string(b)), needle) {
				return true
			}
		}
	}
	return false
}
