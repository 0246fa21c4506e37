package engine_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/dsr/engine"
)

// TestPlanCountsKeys: the plan counts the redis keys an erasure of Ada
// would delete (her two sessions, her rate limit and her preferences; not
// session 11, which only looks like hers) and deletes none; counting stops
// at MaxPlanKeys and says so; a store not configured where the plan runs
// is listed as not counted. No key or value is in the plan.
func TestPlanCountsKeys(t *testing.T) {
	ctx := context.Background()
	e := setupSide(t, "deadline: 700ms")
	p, err := e.eng.Plan(ctx, ada.email, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Keys) != 1 || p.Keys[0] != (engine.PlanKeys{Store: "cache", Count: 4, Counted: true}) {
		t.Fatalf("plan keys = %+v; want cache: 4", p.Keys)
	}
	for _, k := range []string{"session:1:web", "session:1:app", "ratelimit:" + ada.email, "prefs:" + ada.email + ":topics"} {
		if !e.exists(t, k) {
			t.Errorf("the plan deleted redis key %s", k)
		}
	}
	if raw, _ := json.Marshal(p); strings.Contains(string(raw), ada.email) || strings.Contains(string(raw), "session:") {
		t.Errorf("the plan shows a key: %s", raw)
	}

	e.eng.MaxPlanKeys = 3
	if p, err = e.eng.Plan(ctx, ada.email, ""); err != nil {
		t.Fatal(err)
	}
	if p.Keys[0].Count != 3 || !p.Keys[0].AtLeast {
		t.Errorf("plan keys past the bound = %+v; want at least 3", p.Keys[0])
	}

	e.eng.KeyStores = nil
	if p, err = e.eng.Plan(ctx, ada.email, ""); err != nil {
		t.Fatal(err)
	}
	if p.Keys[0].Counted || p.Keys[0].Count != 0 {
		t.Errorf("plan keys without the store = %+v; want not counted", p.Keys[0])
	}
}
