package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// templateTarget is the target of a collection reached by SQL templates:
// it carries no matches, only the tenant its :tenant binds. A
// tenant-scoped request does not reach one without a tenant, as it does
// not reach any collection that belongs to no tenant.
func (r *run) templateTarget(t *target, m mode) *target {
	if m == modeScoped && t.c.Tenant == "" {
		return nil
	}
	t.tenant = r.tenant
	return t
}

// runner returns t's store as a TemplateRunner; EUNPROCESSABLE when it
// cannot run templates.
func (t *target) runner() (connector.TemplateRunner, error) {
	tr, ok := t.store.(connector.TemplateRunner)
	if !ok {
		return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "store %s cannot run the SQL templates of %s", t.c.Store, t.c.Key)
	}
	return tr, nil
}

// bindings returns one Binding per combination of the values of tpl's
// parameters: :tenant (NULL across tenants), the identities, and the
// values of registry columns in the subject's rows, frozen when an
// erasure froze them and read live otherwise. None when a parameter has
// no value: a template never runs with a missing identity.
//
// Errors: EUNPROCESSABLE past Engine.MaxInline combinations.
func (r *run) bindings(ctx context.Context, t *target, tpl *registry.Template) ([]connector.Binding, error) {
	out := []connector.Binding{{}}
	for _, name := range tpl.Names() {
		vals, err := r.paramValues(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("bind :%s of %s: %w", name, tpl.Path, err)
		}
		var next []connector.Binding
		for _, b := range out {
			for _, v := range vals {
				nb := connector.Binding{name: v}
				for k, old := range b {
					nb[k] = old
				}
				next = append(next, nb)
			}
		}
		if out = next; len(out) > r.e.maxInline() {
			return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "%s: more than %d combinations of parameters; raise the engine's MaxInline", tpl.Path, r.e.maxInline())
		}
	}
	return out, nil
}

// paramValues returns the values a template parameter takes.
func (r *run) paramValues(ctx context.Context, name string) ([]any, error) {
	if name == registry.ParamTenant {
		if r.tenant == "" {
			return []any{nil}, nil
		}
		return []any{r.tenant}, nil
	}
	var out []any
	if !strings.Contains(name, ".") {
		for _, v := range r.ids[name] {
			out = append(out, v)
		}
		return out, nil
	}
	dot := strings.LastIndexByte(name, '.')
	c, col := r.reg.Collections[name[:dot]], name[dot+1:]
	set := setName(modeFound, c, []string{col})
	src := r.frozenKeys(set)
	if !r.frozen[set] {
		t, err := r.target(ctx, c, modeFound)
		if err != nil {
			return nil, err
		}
		src = t.values(r, col)
	}
	err := drain(ctx, src(), func(vals []string) error {
		for _, v := range vals {
			out = append(out, v)
		}
		return nil
	})
	return out, err
}

// freezeTemplateParams freezes the values of the registry columns that
// templates bind (:app.users.id), so that an erasure still finds them once
// the rows holding them are gone.
func (r *run) freezeTemplateParams(ctx context.Context) error {
	for _, name := range r.reg.TemplateParams() {
		dot := strings.LastIndexByte(name, '.')
		c, col := r.reg.Collections[name[:dot]], name[dot+1:]
		t, err := r.target(ctx, c, modeFound)
		if err != nil {
			return err
		}
		if err := r.freezeSet(ctx, setName(modeFound, c, []string{col}), t, []string{col}); err != nil {
			return err
		}
	}
	return nil
}

// queryTemplate runs the SELECT tpl once per binding, calling fn per row.
func (r *run) queryTemplate(ctx context.Context, t *target, tpl *registry.Template, fn func(columns []string, values []any) error) error {
	tr, err := t.runner()
	if err != nil {
		return err
	}
	bs, err := r.bindings(ctx, t, tpl)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if err := tr.QueryTemplate(ctx, t.c, tpl, b, fn); err != nil {
			return err
		}
	}
	return nil
}

// templateCount sums what the count template returns over its bindings.
func (r *run) templateCount(ctx context.Context, t *target) (int64, error) {
	var n int64
	err := r.queryTemplate(ctx, t, t.c.Templates.Count, func(_ []string, vals []any) error {
		if len(vals) != 1 {
			return dsr.Errorf(dsr.EUNPROCESSABLE, "%s returns %d columns: return one number, such as SELECT count(*)", t.c.Templates.Count.Path, len(vals))
		}
		k, err := number(vals[0])
		if err != nil {
			return dsr.Errorf(dsr.EUNPROCESSABLE, "%s: %v", t.c.Templates.Count.Path, err)
		}
		n += k
		return nil
	})
	return n, err
}

// number reads a count as the drivers return it.
func number(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case float64:
		return int64(x), nil
	case []byte:
		return strconv.ParseInt(string(x), 10, 64)
	case string:
		return strconv.ParseInt(x, 10, 64)
	case nil:
		return 0, nil
	}
	return 0, fmt.Errorf("returns a %T, not a number", v)
}

// templateLeft counts the rows the verify template still returns.
func (r *run) templateLeft(ctx context.Context, t *target) (int64, error) {
	var n int64
	err := r.queryTemplate(ctx, t, t.c.Templates.Verify, func([]string, []any) error {
		n++
		return nil
	})
	return n, err
}

// eraseTemplate runs the erase statements over every binding in one
// transaction and journals the rows they affected. A done step is skipped;
// a step cut short is run again whole, which the transaction makes safe.
func (r *run) eraseTemplate(ctx context.Context, t *target, name string, prev dsr.Step) (int64, error) {
	if prev.Status == stepDone {
		return prev.Count, nil
	}
	tr, err := t.runner()
	if err != nil {
		return 0, err
	}
	var stmts []connector.Statement
	for _, tpl := range t.c.Templates.Erase {
		bs, err := r.bindings(ctx, t, tpl)
		if err != nil {
			return 0, err
		}
		stmts = append(stmts, connector.Statement{Template: tpl, Bindings: bs})
	}
	if err := r.synced(ctx); err != nil {
		return 0, err
	}
	n, err := tr.ExecTemplates(ctx, t.c, stmts)
	if err != nil {
		return 0, err
	}
	return n, r.save(ctx, name, stepDone, n, progress{}, nil)
}
