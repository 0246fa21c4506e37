package registry

import (
	"context"
	"fmt"
	"slices"
)

// SampleRows is how many rows of each JSON column CheckLive reads.
const SampleRows = 100

// jsonWarnings tries every path c declares inside its JSON columns (under
// json, in erasure and in retention's redact) on sampled rows, and warns
// about a path that matches nothing in any of them, or a column whose
// sampled values hold no JSON: such a path passes validation yet would
// leave the personal data where it is.
func (r *Registry) jsonWarnings(ctx context.Context, c *Collection, s SchemaReader, exists func(string) bool) ([]Problem, error) {
	var out []Problem
	for _, col := range sortedKeys(c.JSON) {
		if !exists(col) {
			continue
		}
		vals, err := s.Sample(ctx, c.Table, col, SampleRows)
		if err != nil {
			return nil, fmt.Errorf("registry: sample %s.%s: %w", c.Key, col, err)
		}
		if len(vals) == 0 {
			continue // no rows yet: nothing to learn
		}
		var docs []any
		for _, v := range vals {
			var text string
			switch x := v.(type) {
			case string:
				text = x
			case []byte:
				text = string(x)
			default:
				continue // a number or a time holds no document
			}
			if doc, err := DecodeDocument(text); err == nil {
				docs = append(docs, doc)
			}
		}
		at := "collections." + c.Key + ".json." + col
		if len(docs) == 0 {
			out = append(out, Problem{File: "lethe.yaml", Path: at, Message: fmt.Sprintf(
				"warning: none of %d sampled values of column %q holds JSON: its paths can match nothing", len(vals), col)})
			continue
		}
		for _, p := range c.declaredPaths(col) {
			if !matchesAny(p, docs) {
				out = append(out, Problem{File: "lethe.yaml", Path: at, Message: fmt.Sprintf(
					"warning: path %q matches nothing in %d sampled rows: compare it with a row; an object keyed by ids needs * (history.messages.*.content), [*] is for arrays only",
					p.Raw, len(docs))})
			}
		}
	}
	return out, nil
}

// declaredPaths returns the paths c names inside JSON column col, each once.
func (c *Collection) declaredPaths(col string) []*Path {
	seen := map[string]bool{}
	var out []*Path
	add := func(p *Path) {
		if p != nil && !seen[p.Raw] {
			seen[p.Raw] = true
			out = append(out, p)
		}
	}
	for _, p := range c.JSON[col] {
		add(p)
	}
	for _, f := range c.Erasure.Fields {
		if f.Column == col {
			add(f.Path)
		}
	}
	if c.Retention != nil {
		for _, f := range c.Retention.Redact {
			if f.Column == col {
				add(f.Path)
			}
		}
	}
	return out
}

func matchesAny(p *Path, docs []any) bool {
	for _, d := range docs {
		if len(p.Find(d)) > 0 {
			return true
		}
	}
	return false
}

// sampleWarnings is jsonWarnings for c's JSON columns that exist in the
// live table (cols): a missing one is reported as a problem already.
func (r *Registry) sampleWarnings(ctx context.Context, c *Collection, s SchemaReader, cols []string) ([]Problem, error) {
	if len(c.JSON) == 0 {
		return nil, nil
	}
	return r.jsonWarnings(ctx, c, s, func(col string) bool { return slices.Contains(cols, col) })
}
