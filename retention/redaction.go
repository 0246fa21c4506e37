package retention

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/pkg/batch"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/redact"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// redactUnit is the unit of c's redact action: every row older than
// RedactAfter, held rows excepted, in every tenant. Rows older than the
// window are gone by then: c's delete units run before it.
func (p *planner) redactUnit(c *registry.Collection) *unit {
	ret := c.Retention
	base := connector.Selection{Collection: c, All: true,
		Older: &connector.Older{Column: ret.Timestamp, Before: p.asOf.Add(-ret.RedactAfter)}}
	u := &unit{key: c.Key + "#redact", c: c, redact: true, base: base, self: base}
	u.self.Except = append([]connector.Selection(nil), p.holds[c.Key]...)
	u.held = len(u.self.Except) > 0
	return u
}

// redactRows rewrites the text of sel's rows with their tenant's
// pseudonyms, batch by batch in primary-key order from the cursor; a dry
// run counts the rows it would change. A row is counted and written only
// when redaction changes it, and a pseudonym is never detected again, so a
// second sweep over the same rows changes nothing.
func (s *Sweeper) redactRows(ctx context.Context, run *Run, u *unit, sel connector.Selection, dry bool) error {
	where := "redact " + u.c.Key
	rw := s.rewrite(u.c)
	rw.DryRun = dry
	st := s.Stores[u.c.Store]
	if err := s.textOnly(ctx, st, u.c, &rw); err != nil {
		return &stepError{where: where, err: err}
	}
	if len(rw.Columns) == 0 {
		return nil
	}
	after := run.Cursor.AfterKey
	if dry {
		after = nil
	}
	err := s.loop(s.batchSize()).Run(ctx, func(bctx context.Context, b *batch.Batch) error {
		start := time.Now()
		n, changed, last, err := st.Rewrite(bctx, sel, rw, after, b.Size)
		if err != nil {
			return err
		}
		b.N = n
		run.count(u.c.Key, u.tenant).RowsRedacted += changed
		if n > 0 {
			after = &last
			if !dry {
				run.Cursor.AfterKey = &last
			}
		}
		if err := s.save(ctx, run, nil); err != nil {
			return err
		}
		if s.Observer != nil && !dry {
			s.Observer.Batch(u.c.Key, changed, 0, time.Since(start))
		}
		return nil
	})
	if err != nil {
		return &stepError{where: where, err: err}
	}
	return nil
}

// ColumnTyper is implemented by stores that know their columns' SQL types
// (the sql connector does). The redact action rewrites only text columns:
// a pseudonym written into an integer, inet or enum column would change
// its type or fail the UPDATE, and the sweep would stall on the unit.
type ColumnTyper interface {
	// NonTextColumns returns those of cols whose type in table is not text
	// (nor JSON), with their type names; the store may cache the answer.
	NonTextColumns(ctx context.Context, table string, cols []string) (map[string]string, error)
}

// textOnly drops from rw the columns of c that st says are not text, and
// logs them: skipped, not an error.
func (s *Sweeper) textOnly(ctx context.Context, st Store, c *registry.Collection, rw *Rewrite) error {
	ct, ok := st.(ColumnTyper)
	if !ok {
		return nil
	}
	skip, err := ct.NonTextColumns(ctx, c.Table, rw.Columns)
	if err != nil || len(skip) == 0 {
		return err
	}
	var keep, skipped []string
	for _, col := range rw.Columns {
		if typ, ok := skip[col]; ok {
			skipped = append(skipped, col+" ("+typ+")")
		} else {
			keep = append(keep, col)
		}
	}
	rw.Columns = keep
	s.logger().Warn("redact skips columns that are not text", "collection", c.Key, "columns", strings.Join(skipped, ", "))
	return nil
}

// rewrite is the Rewrite of c's redact action: whole columns are redacted
// as text, JSON columns at their paths (string and number values; a
// redacted number becomes a string, so the document stays valid JSON); a
// JSON column whose value does not parse is redacted as text. A JSON column
// without paths is never redacted whole (the registry refuses it too):
// pseudonyms would replace its numbers unquoted. A column or path whose
// category identifies a person (user.name, user.contact.*, or one marked
// under identifying) is replaced whole by its pseudonym, whatever the
// detectors find in it; a pseudonym is left as it is.
func (s *Sweeper) rewrite(c *registry.Collection) Rewrite {
	paths := map[string][]registry.Field{}
	kinds := map[string]redact.Kind{} // whole columns replaced by their pseudonym
	var cols []string
	for _, f := range c.Retention.Redact {
		if _, isJSON := c.JSON[f.Column]; isJSON && f.Path == nil {
			continue
		}
		if _, ok := paths[f.Column]; !ok {
			cols = append(cols, f.Column)
			paths[f.Column] = nil
		}
		if f.Path != nil {
			paths[f.Column] = append(paths[f.Column], f)
		} else if k := c.PseudonymKind(f); k != "" {
			kinds[f.Column] = redact.Kind(k)
		}
	}
	edit := func(tenant, col, old string) (string, bool, error) {
		r := s.Redactors.For(tenant)
		if len(paths[col]) == 0 {
			if k, ok := kinds[col]; ok {
				out, changed := r.Whole(k, old)
				return out, changed, nil
			}
			out, spans := r.Redact(old)
			return out, len(spans) > 0, nil
		}
		doc, err := registry.DecodeDocument(old)
		if err != nil {
			out, spans := r.Redact(old)
			return out, len(spans) > 0, nil
		}
		changed := false
		for _, f := range paths[col] {
			kind := redact.Kind(c.PseudonymKind(f))
			doc, _ = f.Path.Rewrite(doc, func(v any) any {
				var str string
				switch x := v.(type) {
				case string:
					str = x
				case json.Number: // a card or phone number stored as a number
					str = x.String()
				default:
					return v
				}
				var out string
				var ok bool
				if kind != "" {
					out, ok = r.Whole(kind, str)
				} else {
					var spans []redact.Span
					out, spans = r.Redact(str)
					ok = len(spans) > 0
				}
				if !ok {
					return v
				}
				changed = true
				return out // a string: a pseudonym is no JSON number
			})
		}
		if !changed {
			return old, false, nil
		}
		out, err := registry.EncodeDocument(doc)
		return out, err == nil, err
	}
	return Rewrite{Columns: cols, TenantPath: tenantPath(s.Registry, c), Edit: edit}
}

// tenantPath leads from c's rows to their tenant: empty when c has its own
// tenant column or no way to one. It follows the first reference to a
// tenant-scoped collection of c's store (registry.TenantScoped). A
// tenant's own windows select a row through any of its references
// (connector.InTenant), so a row whose references lead to two studios is
// counted under the first one's only, though either studio's window
// selects it.
func tenantPath(reg *registry.Registry, c *registry.Collection) []TenantHop {
	if c.Tenant != "" {
		return nil
	}
	for _, ref := range c.References {
		p := reg.Collections[ref.Target]
		if p == nil || p.Store != c.Store || !reg.TenantScoped(p) {
			continue
		}
		return append([]TenantHop{{Column: ref.Column, Parent: p, ParentColumn: ref.TargetColumn, Where: ref.Where}}, tenantPath(reg, p)...)
	}
	return nil
}
