package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SchemaReader reads a live database's schema: what the SQL connector
// implements for CheckLive.
type SchemaReader interface {
	// Columns returns the columns of table, and exists=false when there is
	// no such table.
	Columns(ctx context.Context, table string) (cols []string, exists bool, err error)
	// Indexes returns the indexes of table.
	Indexes(ctx context.Context, table string) ([]Index, error)
	// Keys returns the primary key and unique indexes of table over plain
	// columns.
	Keys(ctx context.Context, table string) ([]Key, error)
	// Types returns the type of each column of table, lower case, by column.
	Types(ctx context.Context, table string) (map[string]string, error)
	// Sample returns up to limit non-NULL values of column in table, as
	// the driver returns them, from whichever rows the database reads first.
	Sample(ctx context.Context, table, column string, limit int) ([]any, error)
}

// FoldReader is what a SchemaReader may tell of how Lethe folds an
// identity column to match addresses exactly in every script.
type FoldReader interface {
	// FoldAdvice returns the SQL that folds col of table as Lethe does,
	// plain=true when it is the column's own lower(col) (which an
	// expression index on lower(col) serves). Errors: the column cannot be
	// folded as Lethe does, so every request on it fails.
	FoldAdvice(table, col string) (plain bool, expr string, err error)
}

// Index is one index of a live table.
type Index struct {
	Name       string
	Columns    []string // the indexed plain columns in order; empty for expression indexes
	Definition string   // the index's SQL when the database keeps it ("" otherwise)
}

// CheckLive compares r with the live databases of its sql stores, given as
// schemas by store name. It returns a *ValidationError listing tables and
// columns that do not exist, primary keys that are not the table's (see
// MatchKey), written tables without a key, and retention timestamps whose
// type Lethe cannot date (see TimeStorage); and warnings (not errors) for
// identity, tenant and reference columns without an index, each with the
// CREATE INDEX to run. A store missing from schemas is a problem; a failing
// SchemaReader is returned as an error naming the store.
//
// CheckLive also completes r with what only the live schema tells: the
// primary key of each collection that declares none, and how each
// retention timestamp stores time (Retention.Stored). It changes r's
// canonical form and Version accordingly, so call it before r is shared.
func (r *Registry) CheckLive(ctx context.Context, schemas map[string]SchemaReader) (warnings []Problem, err error) {
	p := &problems{file: "lethe.yaml"}
	defer func() {
		if err == nil {
			err = r.seal()
		}
	}()
	for _, c := range r.order {
		if r.Stores[c.Store].Kind == KindMongo {
			continue // see CheckLiveDocuments
		}
		s, ok := schemas[c.Store]
		if !ok {
			p.add([]string{"stores", c.Store}, "no connection to this store")
			continue
		}
		if c.Templates != nil {
			if err := checkLiveTemplates(ctx, p, s, c); err != nil {
				return nil, err
			}
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
		if err := r.checkLiveTable(ctx, p, s, c); err != nil {
			return nil, err
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
		if f, ok := s.(FoldReader); ok {
			warnings = append(warnings, r.foldWarnings(c, f)...)
		}
		sampled, err := r.sampleWarnings(ctx, c, s, cols)
		if err != nil {
			return nil, err
		}
		warnings = append(warnings, sampled...)
	}
	sortProblems(p.list)
	return warnings, p.err()
}

// checkLiveTable reads c's key and timestamp type from the live table.
func (r *Registry) checkLiveTable(ctx context.Context, p *problems, s SchemaReader, c *Collection) error {
	at := []string{"collections", c.Key}
	keys, err := s.Keys(ctx, c.Table)
	if err != nil {
		return fmt.Errorf("registry: check %s: %w", c.Key, err)
	}
	key, kerr := MatchKey(c.PrimaryKey, c.KeyDeclared, c.Table, keys)
	switch {
	case kerr != nil && (c.KeyDeclared || c.Writes()):
		p.add(append(at, "primary_key"), "%v", kerr)
	case kerr == nil:
		c.PrimaryKey = key
		for _, f := range c.Erasure.Fields {
			if f.Path == nil && slices.Contains(key, f.Column) {
				p.add(append(at, "erasure", "anonymize", f.Column), "%q is part of the primary key %s: anonymising it would lose the row; use delete instead",
					f.Column, FormatKey(key))
			}
		}
	}
	ret := c.Retention
	if ret == nil || ret.Timestamp == "" {
		return nil
	}
	types, err := s.Types(ctx, c.Table)
	if err != nil {
		return fmt.Errorf("registry: check %s: %w", c.Key, err)
	}
	typ, ok := types[ret.Timestamp]
	if !ok {
		return nil // reported as a missing column
	}
	kind, terr := TimeStorage(r.Stores[c.Store].Driver, typ, ret.Unit)
	if terr != nil {
		p.add(append(at, "retention", "timestamp"), "column %q: %v", ret.Timestamp, terr)
		return nil
	}
	ret.Stored = kind
	if kind == TimeEpoch {
		vals, err := s.Sample(ctx, c.Table, ret.Timestamp, epochSample)
		if err != nil {
			return fmt.Errorf("registry: check %s: %w", c.Key, err)
		}
		if msg := doubtUnit(vals, ret.Unit, time.Now()); msg != "" {
			p.add(append(at, "retention", "timestamp", "unit"), "column %q %s", ret.Timestamp, msg)
		}
	}
	return nil
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
		if driver == DriverSQLite {
			continue // no index serves lethe_fold: said in Notes
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

// foldWarnings warns where an identity column's collation does not fold
// letters outside ASCII as Lethe does: Lethe then matches it through
// another collation, which an index on lower(col) does not serve, or
// cannot match it at all.
func (r *Registry) foldWarnings(c *Collection, f FoldReader) []Problem {
	driver := r.Stores[c.Store].Driver
	if driver == DriverSQLite {
		return nil // folded by Lethe's own registered function, always exact
	}
	var out []Problem
	for _, col := range c.Email {
		path := strings.Join([]string{"collections", c.Key, "identity", "email"}, ".")
		plain, expr, err := f.FoldAdvice(c.Table, col)
		switch {
		case err != nil:
			out = append(out, Problem{File: "lethe.yaml", Path: path, Message: "warning: " + err.Error() + "; until then every request fails on this collection"})
		case !plain && driver == DriverMySQL:
			out = append(out, Problem{File: "lethe.yaml", Path: path, Message: fmt.Sprintf(
				"warning: identity column %q of table %q is a binary string or has a collation whose lower() does not fold as Lethe does, so Lethe matches it as %s, which no index serves; give it a utf8mb4 collation such as utf8mb4_unicode_ci",
				col, c.Table, expr)})
		case !plain:
			name := QuoteColumn(driver, "lethe_"+strings.ReplaceAll(c.Table, ".", "_")+"_"+col+"_fold")
			out = append(out, Problem{File: "lethe.yaml", Path: path, Message: fmt.Sprintf(
				"warning: identity column %q of table %q has a collation whose lower() folds only ASCII, so Lethe matches it as %s, which no index on lower(%s) serves; run: CREATE INDEX %s ON %s ((%s));",
				col, c.Table, expr, col, name, QuoteIdent(driver, c.Table), expr)})
		}
	}
	return out
}

// Notes describes what CheckLive read from the live schema, one line per
// fact, for lethe config check: the primary key of each collection that
// declares none, and each retention rule's cut-off as of now written as its
// column stores it, such as
//
//	collections.app.chats.retention: purges rows with created_at < 1448841600 (2015-11-30)
func (r *Registry) Notes(now time.Time) []string {
	var out []string
	for _, c := range r.order {
		at := "collections." + c.Key
		if c.Templates != nil {
			continue
		}
		if r.Stores[c.Store].Driver == DriverSQLite {
			// Lethe folds SQLite columns with its own function, exact in
			// every script; an index on it would break every other
			// connection that writes the table, so none is advised.
			for _, col := range c.Email {
				out = append(out, fmt.Sprintf("%s.identity.email: column %q is matched through Lethe's own fold function, which no SQLite index serves: each request reads table %q whole", at, col, c.Table))
			}
		}
		if !c.KeyDeclared {
			out = append(out, fmt.Sprintf("%s: primary key %s, read from table %q", at, FormatKey(c.PrimaryKey), c.Table))
		}
		ret := c.Retention
		if ret == nil || ret.Timestamp == "" || ret.Stored == TimeUnknown {
			continue
		}
		verb := "purges"
		if ret.Action == ActionAnonymize {
			verb = "anonymises"
		}
		if !ret.Never {
			out = append(out, fmt.Sprintf("%s.retention: %s rows with %s < %s", at, verb, ret.Timestamp,
				FormatCutoff(ret.Stored, ret.Unit, now.Add(-ret.Window))))
		}
		if ret.RedactAfter > 0 {
			out = append(out, fmt.Sprintf("%s.retention.redact_after: redacts rows with %s < %s", at, ret.Timestamp,
				FormatCutoff(ret.Stored, ret.Unit, now.Add(-ret.RedactAfter))))
		}
	}
	return out
}
