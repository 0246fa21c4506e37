package engine_test

import (
	"context"
	"encoding/json"
	"maps"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/connector"
)

func erasure(email, tenant string) *dsr.Request {
	return &dsr.Request{ID: "r1", Type: dsr.TypeErasure, Email: email, Tenant: tenant}
}

func TestErasure(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			e := setup(t, d)
			before := e.dump(t)
			j := newJournal()
			out, err := e.eng.Execute(context.Background(), erasure("alice@example.com", ""), j)
			if err != nil {
				t.Fatal(err)
			}
			if !out.Verification.Passed {
				t.Fatalf("verification failed: %+v", out.Verification)
			}
			want := map[string]int64{"app.users": 1, "app.newsletter": 1, "app.chats": 2, "app.messages": 6,
				"app.uploads": 2, "app.profiles": 2, "billing.customers": 1, "files.files": 0}
			if !maps.Equal(out.Counts, want) {
				t.Errorf("counts = %v, want %v", out.Counts, want)
			}
			if out.Details["registry_version"] != e.reg.Version() {
				t.Errorf("details lack the registry version: %v", out.Details)
			}
			// The fixture's objects do not exist: both frozen keys are tried and found missing.
			if files, _ := json.Marshal(out.Details["files"]); string(files) != `{"app.uploads.storage_key":{"deleted":0,"missing":2}}` {
				t.Errorf("files = %s", files)
			}
			kept := out.Details["kept"].(map[string]any)["billing.invoices"].(map[string]any)
			if kept["rows"] != int64(2) {
				t.Errorf("kept = %v", kept)
			}
			after := e.dump(t)
			checkErased(t, before, after, map[int64]bool{1: true}, "")

			// Re-running a completed erasure changes nothing.
			again, err := e.eng.Execute(context.Background(), erasure("alice@example.com", ""), j)
			if err != nil || !again.Verification.Passed || !maps.Equal(again.Counts, want) {
				t.Errorf("re-run: %v %+v %v", err, again, err)
			}
			fresh, err := e.eng.Execute(context.Background(), erasure("alice@example.com", ""), newJournal())
			if err != nil || !fresh.Verification.Passed {
				t.Fatalf("fresh re-run: %v %+v", err, fresh)
			}
			for k, n := range fresh.Counts {
				if n != 0 {
					t.Errorf("fresh re-run touched %s: %d", k, n)
				}
			}
			if diff := e.dump(t); !equalDumps(diff, after) {
				t.Errorf("re-running changed the database")
			}
		})
	}
}

func TestErasureMatchesEmailsExactly(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			e := setup(t, d)
			for _, tc := range []struct {
				name     string
				email    string
				subjects map[int64]bool
			}{
				{"wildcards quotes backslash", `q'u%o_t\e@example.com`, map[int64]bool{3: true, 6: true}},
				{"sql text", `x' OR '1'='1@example.com`, map[int64]bool{7: true}},
				{"statement", `"; DELETE FROM users; --@example.com`, map[int64]bool{8: true}},
				{"nobody", `%@example.com`, map[int64]bool{}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					before := e.dump(t)
					out, err := e.eng.Execute(context.Background(), erasure(tc.email, ""), newJournal())
					if err != nil {
						t.Fatal(err)
					}
					if !out.Verification.Passed {
						t.Fatalf("verification failed: %+v", out.Verification)
					}
					if out.Counts["app.users"] != int64(len(tc.subjects)) {
						t.Errorf("users erased = %d, want %d", out.Counts["app.users"], len(tc.subjects))
					}
					checkErased(t, before, e.dump(t), tc.subjects, "")
				})
			}
		})
	}
}

func TestErasureTenantScoped(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			e := setup(t, d)
			before := e.dump(t)
			plan, err := e.eng.Plan(context.Background(), "ALICE@example.com", "acme")
			if err != nil {
				t.Fatal(err)
			}
			if plan.Total != 5 || len(plan.Collections) != 3 {
				t.Errorf("plan = %+v, want chats 1, messages 3, uploads 1", plan)
			}
			out, err := e.eng.Execute(context.Background(), erasure("alice@example.com", "acme"), newJournal())
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int64{"app.chats": 1, "app.messages": 3, "app.uploads": 1, "files.files": 0}
			if !out.Verification.Passed || !maps.Equal(out.Counts, want) {
				t.Errorf("outcome = %+v %v, want counts %v", out.Verification, out.Counts, want)
			}
			checkErased(t, before, e.dump(t), map[int64]bool{1: true}, "acme")
		})
	}
}

func TestPlanChangesNothing(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			e := setup(t, d)
			before := e.dump(t)
			p, err := e.eng.Plan(context.Background(), "alice@example.com", "")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int64{}
			for _, it := range p.Collections {
				got[it.Store+"."+it.Collection] = it.Count
			}
			want := map[string]int64{"app.users": 1, "app.newsletter": 1, "app.chats": 2, "app.messages": 6,
				"app.uploads": 2, "app.profiles": 2, "billing.customers": 1, "billing.invoices": 2}
			if !maps.Equal(got, want) || p.Total != 15 {
				t.Errorf("plan = %v total %d, want %v total 15", got, p.Total, want)
			}
			if !equalDumps(before, e.dump(t)) {
				t.Error("plan changed the database")
			}
			if _, err := e.eng.Plan(context.Background(), "not an email", ""); dsr.ErrorCode(err) != dsr.EUNPROCESSABLE {
				t.Errorf("bad email: %v", err)
			}
			streamed := rowCounter{rows: map[string]int64{}}
			e.eng.Exporter = streamed
			access, err := e.eng.Execute(context.Background(), &dsr.Request{Type: dsr.TypeAccess, Email: "alice@example.com"}, newJournal())
			if err != nil || access.Counts["app.messages"] != 6 || access.Verification != nil {
				t.Errorf("access = %+v, %v", access, err)
			}
			if !maps.Equal(streamed.rows, want) {
				t.Errorf("rows streamed = %v, want %v", streamed.rows, want)
			}
			if !equalDumps(before, e.dump(t)) {
				t.Error("access changed the database")
			}
		})
	}
}

// dropDeletes is a connector bug: it claims deletes on one collection that
// it never makes. Verification must catch it.
type dropDeletes struct {
	connector.Store
	collection string
}

func (s dropDeletes) Delete(ctx context.Context, sel connector.Selection, limit int, ahead connector.Ahead) (int64, error) {
	if sel.Collection.Key == s.collection {
		return 0, nil
	}
	return s.Store.Delete(ctx, sel, limit, ahead)
}

func TestErasureFailedVerification(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			e := setup(t, d)
			e.eng.Stores["app"] = dropDeletes{Store: e.app, collection: "app.uploads"}
			out, err := e.eng.Execute(context.Background(), erasure("alice@example.com", ""), newJournal())
			if err != nil {
				t.Fatal(err)
			}
			v := out.Verification
			if v.Passed || v.Remaining != 2 || v.Found["app.uploads"] != 2 {
				t.Errorf("verification = %+v, want 2 uploads found", v)
			}
		})
	}
}

func equalDumps(a, b map[string]map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !maps.Equal(a[k], b[k]) {
			return false
		}
	}
	return true
}
