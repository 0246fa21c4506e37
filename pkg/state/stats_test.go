package state_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
)

func TestStats(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		stats := &state.Stats{DB: b.db}
		b.create(t, admin, dsr.TypeErasure, "mia@example.com", "")
		b.create(t, admin, dsr.TypeErasure, "mia@example.com", "studio-a")
		b.create(t, admin, dsr.TypeAccess, "mia@example.com", "")
		cancelled := b.create(t, admin, dsr.TypeErasure, "mia@example.com", "")
		if _, err := b.requests.Cancel(ctx, admin, cancelled.ID, "no longer wanted"); err != nil {
			t.Fatal(err)
		}
		b.clock.Advance(5 * 24 * time.Hour)
		b.create(t, admin, dsr.TypeAccess, "mia@example.com", "")

		counts, err := stats.RequestCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, c := range counts {
			got[fmt.Sprintf("%s/%s", c.Type, c.Status)] = c.N
		}
		want := map[string]int64{"erasure/pending": 2, "erasure/cancelled": 1, "access/pending": 2}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("counts %v, want %v", got, want)
		}

		for _, tc := range []struct {
			name    string
			advance time.Duration
			want    int64
		}{
			{name: "before any deadline", want: 0},
			{name: "at the first deadline", advance: 25 * 24 * time.Hour, want: 0},
			{name: "just past it", advance: time.Microsecond, want: 3},
			{name: "past every deadline", advance: 5 * 24 * time.Hour, want: 4},
		} {
			b.clock.Advance(tc.advance)
			if n, err := stats.Overdue(ctx); err != nil || n != tc.want {
				t.Errorf("%s: overdue = %d, %v; want %d", tc.name, n, err, tc.want)
			}
		}
	})
}
