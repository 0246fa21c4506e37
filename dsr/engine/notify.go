package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Statuses of a processor's notify step.
const (
	stepConfirmed   = "confirmed"
	stepUnconfirmed = "unconfirmed"
	stepFailed      = "failed"
)

// notifyProgress is a notify step's Detail.
type notifyProgress struct {
	Since    time.Time `json:"since"` // the first attempt: the deadline counts from it
	Attempts int       `json:"attempts"`
}

// notify tells every processor of the registry about the erasure, one after
// the other, journaling each outcome. A processor already confirmed (or, if
// best-effort, given up on) is not told again. A processor that does not
// confirm before its deadline fails the request with ECONFLICT naming it,
// unless the registry marks it best_effort: then it is recorded as
// "unconfirmed" in the counts and details.
func (r *run) notify(ctx context.Context, steps map[string]dsr.Step, counts map[string]int64, details map[string]any) error {
	var names []string
	for _, name := range sortedStores(r.reg) {
		if r.reg.Stores[name].Kind == registry.KindProcessor {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	notice, err := r.notice(ctx)
	if err != nil {
		return err
	}
	outcome := map[string]string{}
	for _, name := range names {
		st := r.reg.Stores[name]
		step := "notify " + name
		prev := steps[step]
		var at notifyProgress
		_ = json.Unmarshal([]byte(prev.Detail), &at)
		status := prev.Status
		if status != stepConfirmed && status != stepUnconfirmed {
			if at.Since.IsZero() {
				at.Since = r.e.now().UTC()
				if err := r.saveDetail(ctx, step, stepRunning, 0, at); err != nil {
					return err
				}
			}
			if err := r.synced(ctx); err != nil {
				return err
			}
			n, err := r.e.Processors[name].Notify(ctx, notice, at.Since)
			at.Attempts += n
			switch {
			case err == nil:
				status = stepConfirmed
			case errors.Is(err, ErrUnconfirmed) && st.BestEffort:
				status = stepUnconfirmed
			case errors.Is(err, ErrUnconfirmed):
				if jerr := r.saveDetail(ctx, step, stepFailed, int64(at.Attempts), at); jerr != nil {
					return jerr
				}
				return dsr.Errorf(dsr.ECONFLICT, "processor %s did not confirm the erasure within %s (%d attempts); fix its webhook and file the request again, or mark it best_effort in the registry",
					name, st.Deadline, at.Attempts)
			default:
				return fmt.Errorf("notify processor %s: %w", name, err)
			}
			if err := r.saveDetail(ctx, step, status, int64(at.Attempts), at); err != nil {
				return err
			}
		}
		outcome[name] = status
		if status == stepConfirmed {
			counts[name+".notified"] = 1
		} else {
			counts[name+".unconfirmed"] = 1
		}
	}
	details["processors"] = outcome
	return nil
}

// notice builds the processors' notice: the request, the email, and the
// frozen primary keys of the identity collections.
func (r *run) notice(ctx context.Context) (Notice, error) {
	n := Notice{RequestID: r.req.ID, Type: string(r.req.Type), Tenant: r.tenant,
		Identities: map[string][]string{}}
	for kind, vals := range r.ids {
		n.Identities[kind] = vals
	}
	var sets []string
	for _, c := range r.reg.Order() {
		if c.Identity() && len(c.PrimaryKey) == 1 && (len(c.Email) == 0 || c.PrimaryKey[0] != c.Email[0]) {
			sets = append(sets, c.Key)
		}
	}
	sort.Strings(sets)
	for _, key := range sets {
		c := r.reg.Collections[key]
		set := setName(modeFound, c, c.PrimaryKey)
		if !r.frozen[set] {
			continue
		}
		var vals []string
		it := r.frozenKeys(set)()
		for {
			chunk, err := it.next(ctx)
			if err != nil {
				return n, err
			} else if chunk == nil {
				break
			}
			vals = append(vals, chunk...)
			if len(vals) > r.e.maxInline() {
				return n, dsr.Errorf(dsr.EUNPROCESSABLE, "collection %s: more than %d identity keys to tell processors", key, r.e.maxInline())
			}
		}
		if len(vals) > 0 {
			n.Identities[key+"."+c.PrimaryKey[0]] = vals
		}
	}
	return n, nil
}
