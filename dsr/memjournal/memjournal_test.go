package memjournal

import (
	"context"
	"slices"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
)

// TestJournal: a step saved again replaces the first in its place, frozen
// keys come back in order from after a key and a page at a time, and the
// first snapshot wins.
func TestJournal(t *testing.T) {
	ctx := context.Background()
	j := New()
	for _, s := range []dsr.Step{{Name: "a", Status: "running"}, {Name: "b", Status: "done"}, {Name: "a", Status: "done", Count: 3}} {
		if err := j.SaveStep(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	steps, _ := j.Steps(ctx)
	if len(steps) != 2 || steps[0].Name != "a" || steps[0].Count != 3 || steps[1].Name != "b" {
		t.Errorf("steps %+v; want a (done, 3) then b", steps)
	}
	if s := j.Step("a"); s.Status != "done" {
		t.Errorf("Step(a) = %+v", s)
	}
	if s := j.Step("none"); s.Name != "" {
		t.Errorf("Step(none) = %+v; want the zero step", s)
	}

	_ = j.FreezeKeys(ctx, "app.users", []string{"k3", "k1"})
	_ = j.FreezeKeys(ctx, "app.users", []string{"k2", "k1"})
	_ = j.FreezeKeys(ctx, "app.chats", []string{"c1"})
	var got []string
	for after := ""; ; {
		page, _ := j.FrozenKeys(ctx, "app.users", after, 2)
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		after = page[len(page)-1]
	}
	if want := []string{"k1", "k2", "k3"}; !slices.Equal(got, want) {
		t.Errorf("frozen keys %v; want %v", got, want)
	}

	first, _ := j.Snapshot(ctx, []byte("v1"))
	second, _ := j.Snapshot(ctx, []byte("v2"))
	if string(first) != "v1" || string(second) != "v1" {
		t.Errorf("snapshots %q, %q; want the first kept", first, second)
	}
}
