package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// SchemaReader reads a live database's schema: what the SQL connector
// implements for CheckLive.
type SchemaReader interface {
	// Columns returns the columns of table, and exists=false when there is
	// no such table.
	Columns(ctx context.Context, table string) (cols []string, exists bool, err error)
	// Indexes returns the indexes of table.
	Indexes(ctx context.Context, table string) ([]Index, error)
}

// Index is one index of a live table.
type Index struct {
	Name       string
	Columns    []string // the indexed plain columns in order; empty for expression indexes
	Definition string   // the index's SQL when the database keeps it ("" otherwise)
}

// CheckLive compares r with the live databases of its sql stores, given as
// schemas by store name. It returns a *ValidationError listing tables and
// columns that do not exist, and warnings (not errors) for identity, tenant
// and reference columns without an index, each with the CREATE INDEX to
// run. A store missing from schemas is a problem; a failing SchemaReader is
// returned as an error naming the store.
func (r *Registry) CheckLive(ctx context.Context, schemas map[string]SchemaReader) (warnings []Problem, err error) {
	p := &problems{file: "lethe.yaml"}
	for _, c := range r.order {
		s, ok := schemas[c.Store]
		if !ok {
			p.add([]string{"stores", c.Store}, "no connection to this store")
			continue
		}
		at := []string{"collections", c.Key}
		cols, exists, err := s.Columns(ctx, c.Table)
		if err != nil {
			return nil, fmt.Errorf("registry: check %s: %w", c.Key, err)
		}
		if !exists {
			p.add(append(at, "table"), "table %q does not exist in store %s: create it or fix the name", c.Table, c.Store)
			continue
		}
		for _, col := range c.Columns() {
			if !slices.Contains(cols, col) {
				p.add(at, "column %q does not exist in table %q of store %s: fix the name in the registry", col, c.Table, c.Store)
			}
		}
		idx, err := s.Indexes(ctx, c.Table)
		if err != nil {
			return nil, fmt.Errorf("registry: check %s: %w", c.Key, err)
		}
		warnings = append(warnings, r.indexWarnings(c, idx)...)
	}
	sortProblems(p.list)
	return warnings, p.err()
}

func (r *Registry) indexWarnings(c *Collection, idx []Index) []Problem {
	driver := r.Stores[c.Store].Driver
	leads := func(col string) bool {
		for _, ix := range idx {
			if len(ix.Columns) > 0 && ix.Columns[0] == col {
				return true
			}
		}
		return false
	}
	var out []Problem
	warn := func(path []string, col, why string, lower bool) {
		name := QuoteColumn(driver, "lethe_"+strings.ReplaceAll(c.Table, ".", "_")+"_"+col)
		expr := QuoteColumn(driver, col)
		if lower && driver != DriverMySQL {
			expr = "lower(" + expr + ")"
		}
		out = append(out, Problem{File: "lethe.yaml", Path: strings.Join(path, "."), Message: fmt.Sprintf(
			"warning: %s %q of table %q has no index: erasure would scan the table; run: CREATE INDEX %s ON %s (%s);",
			why, col, c.Table, name, QuoteIdent(driver, c.Table), expr)})
	}
	for _, col := range c.Email {
		ok := false
		for _, ix := range idx {
			def := strings.ToLower(ix.Definition)
			if strings.Contains(def, "lower(") && strings.Contains(def, strings.ToLower(col)) {
				ok = true
			}
		}
		// MySQL compares lower(col) without an expression index; a plain one is the best advice.
		if !ok && (driver != DriverMySQL || !leads(col)) {
			warn([]string{"collections", c.Key, "identity", "email"}, col, "identity column", true)
		}
	}
	if c.Tenant != "" && !leads(c.Tenant) {
		warn([]string{"collections", c.Key, "tenant"}, c.Tenant, "tenant column", false)
	}
	for _, ref := range c.References {
		if !leads(ref.Column) {
			warn([]string{"collections", c.Key, "references", ref.Column}, ref.Column, "reference column", false)
		}
	}
	return out
}
