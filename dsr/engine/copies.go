package engine

import (
	"context"
	"fmt"
	"slices"

	"github.com/lethe-privacy/lethe/dsr"
)

const stepCopies = "copies lethe"

// copyScope is the request's person as Lethe's own stores know them.
func (r *run) copyScope() dsr.CopyScope {
	return dsr.CopyScope{RequestID: r.req.ID, Tenant: r.tenant, Subjects: r.subjects()}
}

// subjects returns the hashes the person's requests may be filed under:
// the request's own, and those the engine's hasher gives the email now and
// gave it before keys were derived per use.
func (r *run) subjects() []dsr.Subject {
	out := []dsr.Subject{r.req.Subject}
	if r.e.Hasher != nil && r.email != "" {
		for _, s := range r.e.Hasher.Subjects(r.email) {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// eraseCopies removes the person's copies in Lethe's own stores, after the
// application's data: access packages, links, self-service rows. It runs
// again on a resumed erasure (it is idempotent) and journals what it
// removed in all.
func (r *run) eraseCopies(ctx context.Context, counts map[string]int64) error {
	if r.e.Copies == nil {
		return nil
	}
	if err := r.synced(ctx); err != nil {
		return err
	}
	removed, err := r.e.Copies.EraseCopies(ctx, r.copyScope())
	if err != nil {
		return fmt.Errorf("erase Lethe's copies: %w", err)
	}
	var n int64
	for k, v := range removed {
		counts[k] += v
		n += v
	}
	return r.save(ctx, stepCopies, stepDone, n, progress{}, nil)
}

// verifyCopies adds to found what Lethe's own stores still hold.
func (r *run) verifyCopies(ctx context.Context, found map[string]int64) error {
	if r.e.Copies == nil {
		return nil
	}
	left, err := r.e.Copies.FindCopies(ctx, r.copyScope())
	if err != nil {
		return fmt.Errorf("verify Lethe's copies: %w", err)
	}
	for k, v := range left {
		found[k] += v
	}
	return nil
}
