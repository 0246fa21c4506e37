package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector/blobstore"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/demo"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// TestDemoRegistry erases a demo user for real, as the README tour does.
func TestDemoRegistry(t *testing.T) {
	ctx := context.Background()
	d, err := demo.Seed(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Parse(d.Registry("DEMO_DB"))
	if err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string { return map[string]string{"DEMO_DB": d.DBPath}[k] }
	if err := reg.CheckEnv(func(k string) (string, bool) { return getenv(k), getenv(k) != "" }); err != nil {
		t.Fatal(err)
	}
	stores, err := sqlstore.OpenRegistry(reg, getenv)
	if err != nil {
		t.Fatal(err)
	}
	defer stores.Close()
	warnings, err := reg.CheckLive(ctx, stores.Schemas())
	if err != nil {
		t.Fatalf("the demo registry does not match the demo database: %v", err)
	}
	for _, w := range warnings {
		if !strings.Contains(w.Message, "CREATE INDEX") {
			t.Errorf("warning without the index to create: %s", w)
		}
	}
	blobs, err := blobstore.OpenRegistry(ctx, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer blobs.Close()
	eng := engine.New(reg, stores.Engine(), dsr.NewSubjectHasher([]byte("k")))
	eng.Blobs = blobs.Engine()
	victim := d.Users[0]
	plan, err := eng.Plan(ctx, strings.ToUpper(victim.Email), "")
	if err != nil {
		t.Fatal(err)
	}
	if plan.Total == 0 {
		t.Fatalf("the plan for a demo user is empty: %+v", plan)
	}
	out, err := eng.Execute(ctx, erasure(victim.Email, ""), newJournal())
	if err != nil {
		t.Fatal(err)
	}
	if !out.Verification.Passed || out.Counts["app.users"] != 1 {
		t.Errorf("outcome = %+v %+v", out.Counts, out.Verification)
	}
	var total int64
	for k, n := range out.Counts {
		if reg.Collections[k] != nil {
			total += n
		}
	}
	if out.Counts["uploads.files"] != 1 {
		t.Errorf("files erased = %d, want the victim's one upload (%v)", out.Counts["uploads.files"], out.Counts)
	}
	if total != plan.Total {
		t.Errorf("erased %d rows, the plan said %d", total, plan.Total)
	}
	for _, u := range d.Users[1:] {
		p, err := eng.Plan(ctx, u.Email, "")
		if err != nil || p.Total == 0 {
			t.Errorf("user %d lost data: %+v %v", u.ID, p, err)
		}
	}
}
