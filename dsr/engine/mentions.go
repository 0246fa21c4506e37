package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/batch"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/redact"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// mentionNamesSet is the frozen key set of the person's names, read from
// their rows before anything changes, so that a resumed erasure looks for
// the same names although the rows that held them are gone.
const mentionNamesSet = "mention:names"

// mentionProgress is a running mentions step's Detail: the tenant whose
// rows were being scanned; the step's Cursor is the last key scanned.
type mentionProgress struct {
	Tenant string `json:"tenant"`
}

// mentionUnit is the rows of a collection one mentions scan reads: one
// tenant's (or, for rows that belong to no tenant, all), without the
// person's own.
type mentionUnit struct {
	tenant string
	sel    connector.Selection
}

// hasMentions reports whether a collection of reg declares mentions.
func hasMentions(reg *registry.Registry) bool {
	for _, c := range reg.Collections {
		if len(c.Mentions) > 0 {
			return true
		}
	}
	return false
}

// gatherNames reads the person's names, when the registry declares
// mentions, from the name-category columns and JSON paths of their rows
// in the identity collections: the rows that are the person, not those
// that hang from them (an assistant's message in the person's chat
// carries the studio's name).
func (r *run) gatherNames(ctx context.Context) error {
	if !hasMentions(r.reg) {
		return nil
	}
	for _, c := range r.reg.Order() {
		fields := nameFields(c)
		if !c.Identity() || c.Templates != nil || len(fields) == 0 {
			continue
		}
		t, err := r.target(ctx, c, modeFound)
		if err != nil {
			return err
		}
		cols := fieldColumns(fields)
		err = r.eachRow(ctx, t, cols, func(row connector.Row) error {
			eachText(fields, cols, row.Values, func(s string) { r.addName(s) })
			if len(r.names) > r.e.maxInline() {
				return dsr.Errorf(dsr.EUNPROCESSABLE, "names from %s: more than %d; raise the engine's MaxInline", c.Key, r.e.maxInline())
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("names from %s: %w", c.Key, err)
		}
	}
	return nil
}

// addName adds a name not yet known (compared with case folded).
func (r *run) addName(s string) {
	s = strings.Join(strings.Fields(s), " ")
	if s != "" && !redact.IsPseudonym(s) && !slices.ContainsFunc(r.names, func(old string) bool { return strings.EqualFold(old, s) }) {
		r.names = append(r.names, s)
	}
}

// nameFields returns c's columns and JSON paths whose category is a
// person's name.
func nameFields(c *registry.Collection) []registry.Field {
	var out []registry.Field
	for _, col := range slices.Sorted(maps.Keys(c.Identifying)) {
		if c.Identifying[col] != "name" {
			continue
		}
		if _, ok := c.Categories[col]; ok {
			out = append(out, registry.Field{Column: col})
			continue
		}
		for jcol, paths := range c.JSON {
			for _, p := range paths {
				if f := (registry.Field{Column: jcol, Path: p}); f.Name() == col {
					out = append(out, f)
				}
			}
		}
	}
	return out
}

// fieldColumns returns the columns fields live in, once each.
func fieldColumns(fields []registry.Field) []string {
	var cols []string
	for _, f := range fields {
		if !slices.Contains(cols, f.Column) {
			cols = append(cols, f.Column)
		}
	}
	return cols
}

// eachText calls fn with each text value of fields in one row, whose
// values are in the order of cols: a whole column, or the strings at a
// path of a JSON column (a value that holds no JSON is skipped).
func eachText(fields []registry.Field, cols []string, vals []*string, fn func(s string)) {
	for _, f := range fields {
		v := vals[slices.Index(cols, f.Column)]
		if v == nil {
			continue
		}
		if f.Path == nil {
			fn(*v)
			continue
		}
		doc, err := registry.DecodeDocument(*v)
		if err != nil {
			continue
		}
		for _, x := range f.Path.Find(doc) {
			if s, ok := x.(string); ok {
				fn(s)
			}
		}
	}
}

// person returns what a mentions scan looks for: the names gathered, and
// the emails and phones the request was executed with.
func (r *run) person() *redact.Subject {
	return redact.NewSubject(r.names, r.ids[registry.IdentityEmail], r.ids[registry.IdentityPhone])
}

// mentionUnits returns the rows of c a mentions scan reads, tenant by
// tenant: the request's tenant; for a request without one, each tenant
// of c's rows (a row with no tenant is not read), or all of c's rows when
// c has no way to a tenant. A tenant-scoped request reaches no rows of a
// collection without one. The person's own rows are left out.
func (r *run) mentionUnits(ctx context.Context, c *registry.Collection) ([]mentionUnit, error) {
	var own []connector.Selection
	t, err := r.target(ctx, c, modeScoped)
	if err != nil {
		return nil, err
	}
	if t != nil {
		if own, err = t.selections(ctx, r); err != nil {
			return nil, err
		}
	}
	scoped := r.reg.TenantScoped(c)
	var tenants []string
	switch {
	case r.tenant != "" && !scoped:
		return nil, nil
	case r.tenant != "":
		tenants = []string{r.tenant}
	case !scoped:
		return []mentionUnit{{sel: connector.Selection{Collection: c, All: true, Except: own}}}, nil
	default:
		if tenants, err = r.tenantsOf(ctx, c); err != nil {
			return nil, err
		}
	}
	out := make([]mentionUnit, 0, len(tenants))
	for _, tn := range tenants {
		sel := *connector.InTenant(r.reg, c, tn) // c is tenant-scoped
		sel.Except = own
		out = append(out, mentionUnit{tenant: tn, sel: sel})
	}
	return out, nil
}

// tenantsOf returns the tenants of c's rows, read from the tenant column
// that c's references lead to, in ascending order.
func (r *run) tenantsOf(ctx context.Context, c *registry.Collection) ([]string, error) {
	root := c
	for root.Tenant == "" {
		next := root
		for _, ref := range root.References {
			if p := r.reg.Collections[ref.Target]; p != nil && p.Store == c.Store && r.reg.TenantScoped(p) {
				next = p
				break
			}
		}
		if next == root {
			return nil, nil
		}
		root = next
	}
	var out []string
	var after *string
	for {
		vals, err := r.e.Stores[root.Store].Values(ctx, connector.Selection{Collection: root, All: true}, []string{root.Tenant}, after, r.e.keyChunk())
		if err != nil {
			return nil, fmt.Errorf("tenants of %s: %w", root.Key, err)
		}
		out = append(out, vals...)
		if len(vals) < r.e.keyChunk() {
			return out, nil
		}
		after = &vals[len(vals)-1]
	}
}

// prefilter returns the index-served restriction of a scan of c for p, or
// nil when c's store reports no index on its one mention column (a scan of
// several columns reads every row) or p has no needles (a name or a phone
// number is looked for in every row: see redact.Subject.Needles).
func (r *run) prefilter(ctx context.Context, c *registry.Collection, p *redact.Subject) (*connector.Contains, error) {
	cols := c.MentionColumns()
	ix, ok := r.e.Stores[c.Store].(MentionIndexer)
	needles := p.Needles()
	if !ok || len(cols) != 1 || len(needles) == 0 {
		return nil, nil
	}
	kind, err := ix.MentionIndex(ctx, c, cols[0])
	if err != nil || kind == "" {
		return nil, err
	}
	return &connector.Contains{Column: cols[0], Any: needles, Index: kind}, nil
}

// Index kinds a MentionIndexer reports.
const (
	IndexTrigram  = "pg_trgm"
	IndexFulltext = "fulltext"
)

// MentionIndexer is a store that can tell which index serves a scan for
// mentions in one column: IndexTrigram (a Postgres GIN index with
// gin_trgm_ops), IndexFulltext (a MySQL or MariaDB FULLTEXT index on the
// column alone) or "" for none.
type MentionIndexer interface {
	MentionIndex(ctx context.Context, c *registry.Collection, column string) (string, error)
}

// scanMentions calls fn with each row of c, unit by unit, that mentions
// p, and the mentions it holds. It changes nothing. With every, it reads
// every row, without the index's prefilter: verification's scan, which a
// prefilter that missed a mention must not fool.
func (r *run) scanMentions(ctx context.Context, c *registry.Collection, p *redact.Subject, every bool, fn func(u mentionUnit, row connector.Row, n int) error) error {
	units, err := r.mentionUnits(ctx, c)
	if err != nil {
		return err
	}
	var pre *connector.Contains
	if !every {
		if pre, err = r.prefilter(ctx, c, p); err != nil {
			return err
		}
	}
	cols := c.MentionColumns()
	for _, u := range units {
		u.sel.Contains = pre
		var after *string
		for {
			rows, err := r.e.Stores[c.Store].Rows(ctx, u.sel, cols, after, r.e.rowBatch())
			if err != nil {
				return fmt.Errorf("mentions in %s: %w", c.Key, err)
			}
			for _, row := range rows {
				if n := countMentions(c, cols, row.Values, p); n > 0 {
					if err := fn(u, row, n); err != nil {
						return err
					}
				}
			}
			if len(rows) < r.e.rowBatch() {
				break
			}
			after = &rows[len(rows)-1].Key
		}
	}
	return nil
}

// countMentions returns how many mentions of p a row's mention fields
// hold (values in the order of cols).
func countMentions(c *registry.Collection, cols []string, vals []*string, p *redact.Subject) int {
	n := 0
	eachText(c.Mentions, cols, vals, func(s string) { n += len(p.Find(s)) })
	return n
}

// mentionCounts counts, per collection with mentions, the mentions of p a
// scan finds and the rows that hold them; every as for scanMentions.
func (r *run) mentionCounts(ctx context.Context, p *redact.Subject, every bool) ([]PlanMention, error) {
	out := []PlanMention{}
	for _, c := range r.reg.Order() {
		if len(c.Mentions) == 0 {
			continue
		}
		pm := PlanMention{Store: c.Store, Collection: c.Name}
		if !p.Empty() {
			err := r.scanMentions(ctx, c, p, every, func(_ mentionUnit, _ connector.Row, n int) error {
				pm.Rows++
				pm.Count += int64(n)
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
		out = append(out, pm)
	}
	return out, nil
}

// PlanMention counts the mentions of the person an erasure would rewrite
// in one collection's other rows.
type PlanMention struct {
	Store      string `json:"store"`
	Collection string `json:"collection"`
	Count      int64  `json:"count"` // mentions
	Rows       int64  `json:"rows"`  // rows holding them
}

// eraseMentions replaces the person's mentions in the other rows of every
// collection that declares mentions with the tenant's pseudonyms
// (registry.Redacted for an engine without Redactors), one journaled step
// per collection ("mentions <collection>"), and returns the mentions
// replaced per collection.
func (r *run) eraseMentions(ctx context.Context, steps map[string]dsr.Step) (map[string]int64, error) {
	out := map[string]int64{}
	if !hasMentions(r.reg) {
		return out, nil
	}
	p := r.person()
	for _, c := range r.reg.Order() {
		if len(c.Mentions) == 0 {
			continue
		}
		name := "mentions " + c.Key
		n, err := r.rewriteMentions(ctx, c, p, name, steps[name])
		if err != nil {
			return nil, fmt.Errorf("mentions in %s: %w", c.Key, err)
		}
		out[c.Key] = n
	}
	return out, nil
}

// rewriteMentions scans c's other rows unit by unit, page by page, and
// rewrites the rows of each page that mention p, in one transaction per
// page, journaling the last key scanned; a resumed run continues after
// it. A row rewritten twice (a page rewritten before its step was saved)
// holds pseudonyms, in which nothing is found again.
func (r *run) rewriteMentions(ctx context.Context, c *registry.Collection, p *redact.Subject, name string, prev dsr.Step) (int64, error) {
	if prev.Status == stepDone {
		return prev.Count, nil
	}
	if p.Empty() {
		return 0, r.saveDetail(ctx, name, stepDone, 0, mentionProgress{})
	}
	var at mentionProgress
	var total int64
	var cursor *string
	if prev.Status == stepRunning && json.Unmarshal([]byte(prev.Detail), &at) == nil {
		total = prev.Count
		if prev.Cursor != "" {
			cursor = &prev.Cursor
		}
	}
	units, err := r.mentionUnits(ctx, c)
	if err != nil {
		return total, err
	}
	pre, err := r.prefilter(ctx, c, p)
	if err != nil {
		return total, err
	}
	start := slices.IndexFunc(units, func(u mentionUnit) bool { return u.tenant == at.Tenant })
	if start < 0 {
		start, cursor = 0, nil
	}
	store, cols := r.e.Stores[c.Store], c.MentionColumns()
	for _, u := range units[start:] {
		after := cursor
		if u.tenant != at.Tenant {
			after = nil
		}
		u.sel.Contains = pre
		token := func(redact.Mention) string { return registry.Redacted }
		if r.e.Redactors != nil {
			token = r.e.Redactors.For(u.tenant).PseudonymOf
		}
		err := r.e.loop(r.e.rowBatch()).Run(ctx, func(bctx context.Context, b *batch.Batch) error {
			rows, err := store.Rows(bctx, u.sel, cols, after, b.Size)
			if err != nil || len(rows) == 0 {
				return err
			}
			var keys []string
			for _, row := range rows {
				if countMentions(c, cols, row.Values, p) > 0 {
					keys = append(keys, row.Key)
				}
			}
			if len(keys) > 0 {
				if err := r.synced(ctx); err != nil {
					return err
				}
				n, err := replaceMentions(bctx, store, c, keys, p, token)
				if err != nil {
					return err
				}
				total += n
			}
			last := rows[len(rows)-1].Key
			b.N, after = int64(len(rows)), &last
			return r.saveCursor(ctx, name, stepRunning, total, mentionProgress{Tenant: u.tenant}, last)
		})
		if err != nil {
			return total, err
		}
	}
	return total, r.saveDetail(ctx, name, stepDone, total, mentionProgress{})
}

// replaceMentions rewrites the rows of c with keys, replacing p's mentions
// in c's mention fields with their tokens and nothing else, and returns
// how many it replaced.
func replaceMentions(ctx context.Context, store connector.Store, c *registry.Collection, keys []string, p *redact.Subject, token func(redact.Mention) string) (int64, error) {
	var n int64
	an := connector.Anonymization{Rewrite: c.MentionColumns(), Edit: func(col string, old *string) (*string, error) {
		if old == nil {
			return nil, nil
		}
		var paths []*registry.Path
		for _, f := range c.Mentions {
			if f.Column != col {
				continue
			}
			if f.Path == nil {
				out, k := p.Replace(*old, token)
				n += int64(k)
				return &out, nil
			}
			paths = append(paths, f.Path)
		}
		doc, err := registry.DecodeDocument(*old)
		if err != nil {
			return old, nil // no JSON: nothing was found in it either
		}
		found := 0
		for _, path := range paths {
			doc, _ = path.Rewrite(doc, func(v any) any {
				s, ok := v.(string)
				if !ok {
					return v
				}
				out, k := p.Replace(s, token)
				found += k
				return out
			})
		}
		if found == 0 {
			return old, nil
		}
		out, err := registry.EncodeDocument(doc)
		if err != nil {
			return nil, fmt.Errorf("encode column %s: %w", col, err)
		}
		n += int64(found)
		return &out, nil
	}}
	sel := connector.Selection{Collection: c, Matches: []connector.Match{{Columns: c.PrimaryKey, Values: keys}}}
	if _, _, err := store.Anonymize(ctx, sel, an, nil, len(keys), nil); err != nil {
		return 0, err
	}
	return n, nil
}

// mentionsLeft counts, per collection, the mentions of the person a new
// scan of every row still finds after an erasure: verification's share.
func (r *run) mentionsLeft(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	if !hasMentions(r.reg) {
		return out, nil
	}
	counts, err := r.mentionCounts(ctx, r.person(), true)
	if err != nil {
		return nil, err
	}
	for _, pm := range counts {
		if pm.Count > 0 {
			out["mentions:"+pm.Store+"."+pm.Collection] = pm.Count
		}
	}
	return out, nil
}

// MentionExcerpt is one sentence of another person's row that mentions
// the subject, as an access package shows it (Art. 15 covers what others
// wrote about the person): the other people's data in it pseudonymised
// (Art. 15(4)), the subject's own names, addresses and numbers as written.
type MentionExcerpt struct {
	Collection string `json:"collection"` // "<store>.<collection>"
	Field      string `json:"field"`      // the column or JSON path, as the registry names it
	Sentence   string `json:"sentence"`
}

// Mentions streams to fn, collection by collection, each sentence of the
// other rows in the request's tenant that mentions the subject, once per
// sentence. It needs the engine's Redactors to pseudonymise the others:
// without them it streams nothing.
func (a *Access) Mentions(ctx context.Context, fn func(MentionExcerpt) error) error {
	r := a.r
	p := r.person()
	if r.e.Redactors == nil || p.Empty() {
		return nil
	}
	for _, c := range r.reg.Order() {
		if len(c.Mentions) == 0 {
			continue
		}
		cols := c.MentionColumns()
		err := r.scanMentions(ctx, c, p, false, func(u mentionUnit, row connector.Row, _ int) error {
			red := r.e.Redactors.For(u.tenant)
			var err error
			for _, f := range c.Mentions {
				seen := map[string]bool{}
				eachText([]registry.Field{f}, cols, row.Values, func(s string) {
					for _, m := range p.Find(s) {
						x := MentionExcerpt{Collection: c.Key, Field: f.Name(), Sentence: p.Excerpt(red, s, m)}
						if err == nil && !seen[x.Sentence] {
							seen[x.Sentence] = true
							err = fn(x)
						}
					}
				})
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}
