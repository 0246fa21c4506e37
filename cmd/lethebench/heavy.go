package main

import (
	"context"
	"fmt"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
)

// heavy: one subject with 10 chats × 10,000 messages among 1,000 other
// users (2 chats × 10 messages each).
func (b *bench) heavy(ctx context.Context) (string, error) {
	s := shape{users: 1001, chats: 2, messages: 10, heavyChats: 10, heavyMessages: 10000}
	var ratios []float64
	var lastBase, lastLethe time.Duration
	var peak float64
	var rows int64
	for rep := range b.reps {
		base, lethe, drop, err := b.pair(ctx, s)
		if err != nil {
			return "", err
		}
		tb, tl, growth, n, err := b.heavyOnce(ctx, base, lethe, rep%2 == 1)
		drop()
		if err != nil {
			return "", err
		}
		ratios = append(ratios, float64(tl)/float64(tb))
		lastBase, lastLethe, rows = tb, tl, n
		peak = max(peak, growth)
	}
	return fmt.Sprintf("ratio=%.2f lethe_ms=%s baseline_ms=%s rows=%d peak_heap_growth_mb=%.1f reps=%d",
		median(ratios), ms(lastLethe), ms(lastBase), rows, peak, b.reps), nil
}

func (b *bench) heavyOnce(ctx context.Context, base, lethe *dataset, letheFirst bool) (tb, tl time.Duration, growthMB float64, rows int64, err error) {
	s, err := b.openSides(ctx, base, lethe)
	if err != nil {
		return
	}
	defer s.Close()
	const email = "user1@example.com"
	runBase := func() error {
		start := time.Now()
		err := baseline(ctx, s.db, email)
		tb = time.Since(start)
		return err
	}
	runLethe := func() error {
		var out *dsr.Outcome
		var err error
		before, peak := sampleHeap(func() {
			start := time.Now()
			out, err = b.state.erase(ctx, s.eng, email)
			tl = time.Since(start)
		})
		growthMB = float64(peak-before) / (1 << 20)
		if err == nil {
			for _, n := range out.Counts {
				rows += n
			}
		}
		return err
	}
	err = s.race(ctx, letheFirst, runBase, runLethe)
	return
}
