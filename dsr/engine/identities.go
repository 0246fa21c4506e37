package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

const stepEnrich = "enrich"

// enrichRecord is the enrich step's Detail: how many values of each
// identity type the request was executed with (the values themselves are
// frozen as keys, never written into a Detail).
type enrichRecord struct {
	Found map[string]int `json:"found"`
	// Names counts the names frozen for mentions (mentionNamesSet).
	Names int `json:"names,omitempty"`
}

// identitySet names the frozen key set of an identity type's values.
func identitySet(kind string) string { return "identity:" + kind }

// newIdentities returns the identities a request is filed with, by type:
// email (when set) and the others, each one value.
func newIdentities(email string, others map[string]string) map[string][]string {
	ids := map[string][]string{}
	if email != "" {
		ids[registry.IdentityEmail] = []string{email}
	}
	for kind, v := range others {
		if v != "" && !slices.Contains(ids[kind], v) {
			ids[kind] = append(ids[kind], v)
		}
	}
	return ids
}

// enrich is the stage before the walk: the registry's lookups, in order,
// read the subject's other identities from the rows the identities known
// so far reach; then the derived identities (sha256 of the emails) are
// added. An execution freezes the result with the keys under the enrich
// step, and a resumed one reads it back rather than enriching again from
// data an earlier attempt may have changed.
//
// Errors: EUNPROCESSABLE past Engine.MaxInline values of one type; store
// errors as for the walk.
func (r *run) enrich(ctx context.Context, steps map[string]dsr.Step) error {
	if s, ok := steps[stepEnrich]; ok && s.Status == stepDone && r.j != nil {
		return r.readIdentities(ctx, s)
	}
	for _, l := range r.reg.Enrich {
		if err := r.lookup(ctx, l); err != nil {
			return fmt.Errorf("enrich from %s: %w", l.From, err)
		}
	}
	for kind, vals := range r.reg.Derived(r.ids[registry.IdentityEmail]) {
		r.addIdentity(kind, vals...)
	}
	r.settle()
	if err := r.gatherNames(ctx); err != nil {
		return err
	}
	if r.j == nil {
		return nil
	}
	rec := enrichRecord{Found: map[string]int{}, Names: len(r.names)}
	if len(r.names) > 0 {
		if err := r.j.FreezeKeys(ctx, mentionNamesSet, r.names); err != nil {
			return fmt.Errorf("freeze names: %w", err)
		}
	}
	for kind, vals := range r.ids {
		if err := r.j.FreezeKeys(ctx, identitySet(kind), vals); err != nil {
			return fmt.Errorf("freeze identities: %w", err)
		}
		rec.Found[kind] = len(vals)
	}
	// Later: the next step (the freeze step, in an erasure) carries it, as
	// nothing changes before that step.
	b, _ := json.Marshal(rec)
	if err := r.j.SaveStep(ctx, dsr.Step{Name: stepEnrich, Status: stepDone, Count: int64(r.identityCount()), Detail: string(b), Later: true}); err != nil {
		return fmt.Errorf("journal step %q: %w", stepEnrich, err)
	}
	return nil
}

// lookup adds the identities of the types l finds, read from the subject's
// rows of l.From. The walk's targets are rebuilt afterwards: they match
// the identities known when they were built.
func (r *run) lookup(ctx context.Context, l registry.Lookup) error {
	c := r.reg.Collections[l.From]
	t, err := r.target(ctx, c, modeFound)
	if err != nil {
		return err
	}
	for _, kind := range l.Find {
		for _, col := range c.IdentityColumns(kind) {
			err := drain(ctx, t.values(r, col)(), func(vals []string) error {
				for _, v := range vals {
					r.addIdentity(kind, r.reg.MatchValues(kind, v)...)
				}
				if len(r.ids[kind]) > r.e.maxInline() {
					return dsr.Errorf(dsr.EUNPROCESSABLE, "enrich from %s: more than %d %s identities; raise the engine's MaxInline", c.Key, r.e.maxInline(), kind)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	r.memo = map[string]*target{}
	return nil
}

// readIdentities replaces the identities with those the enrich step froze.
func (r *run) readIdentities(ctx context.Context, s dsr.Step) error {
	var rec enrichRecord
	if err := json.Unmarshal([]byte(s.Detail), &rec); err != nil {
		return fmt.Errorf("read the enrich step: %w", err)
	}
	r.ids = map[string][]string{}
	for kind := range rec.Found {
		err := drain(ctx, r.frozenKeys(identitySet(kind))(), func(vals []string) error {
			r.addIdentity(kind, vals...)
			return nil
		})
		if err != nil {
			return err
		}
	}
	if rec.Names > 0 {
		err := drain(ctx, r.frozenKeys(mentionNamesSet)(), func(vals []string) error {
			r.names = append(r.names, vals...)
			return nil
		})
		if err != nil {
			return err
		}
	}
	r.settle()
	return nil
}

// addIdentity adds values of kind not yet known.
func (r *run) addIdentity(kind string, vals ...string) {
	for _, v := range vals {
		if v != "" && !slices.ContainsFunc(r.ids[kind], func(old string) bool { return sameIdentity(kind, old, v) }) {
			r.ids[kind] = append(r.ids[kind], v)
		}
	}
}

// sameIdentity reports whether a and b are one identity of kind: emails
// are matched case-insensitively (dsr.FoldEmail), everything else exactly.
func sameIdentity(kind, a, b string) bool {
	if kind == registry.IdentityEmail {
		return dsr.FoldEmail(a) == dsr.FoldEmail(b)
	}
	return a == b
}

// settle sorts the identities, and takes the first email found as the
// request's when it was filed without one (verification of anonymised
// fields and the {email} key templates use it).
func (r *run) settle() {
	for _, vals := range r.ids {
		sort.Strings(vals)
	}
	if r.email == "" && len(r.ids[registry.IdentityEmail]) > 0 {
		r.email = r.ids[registry.IdentityEmail][0]
	}
	r.memo = map[string]*target{}
}

func (r *run) identityCount() int {
	n := 0
	for _, vals := range r.ids {
		n += len(vals)
	}
	return n
}

// identityCounts returns how many values of each identity type the walk
// matches: what a plan shows of them, never the values.
func (r *run) identityCounts() map[string]int {
	out := map[string]int{}
	for kind, vals := range r.ids {
		out[kind] = len(vals)
	}
	return out
}

// stepsByName indexes journaled steps by name.
func stepsByName(list []dsr.Step) map[string]dsr.Step {
	steps := map[string]dsr.Step{}
	for _, s := range list {
		steps[s.Name] = s
	}
	return steps
}

// sortedKinds returns the identity types of m, sorted.
func sortedKinds(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// drain calls fn with each chunk of it until it ends or fn fails.
func drain(ctx context.Context, it iterator, fn func(vals []string) error) error {
	for {
		vals, err := it.next(ctx)
		if err != nil || vals == nil {
			return err
		}
		if err := fn(vals); err != nil {
			return err
		}
	}
}
