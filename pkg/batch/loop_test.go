package batch

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

// table is a fake of what a Loop works on: rows to delete, and a batch
// size above which a batch times out, as a big DELETE on a busy table
// would. It records the sizes asked for and the pauses slept.
type table struct {
	rows    int64
	slowAt  int
	sizes   []int
	pauses  []time.Duration
	timeout error // what a slow batch returns
}

func (tb *table) work(_ context.Context, b *Batch) error {
	tb.sizes = append(tb.sizes, b.Size)
	if tb.slowAt > 0 && b.Size >= tb.slowAt {
		return tb.timeout
	}
	b.N = min(tb.rows, int64(b.Size))
	tb.rows -= b.N
	return nil
}

func (tb *table) loop(size int) *Loop {
	return &Loop{Size: size, Timeout: time.Hour, Pause: 100 * time.Millisecond, Rand: func() float64 { return 0.75 },
		Sleep: func(_ context.Context, d time.Duration) error { tb.pauses = append(tb.pauses, d); return nil }}
}

func TestLoopStopsOnAShortBatch(t *testing.T) {
	tb := &table{rows: 25}
	if err := tb.loop(10).Run(context.Background(), tb.work); err != nil {
		t.Fatal(err)
	}
	if want := []int{10, 10, 10}; !reflect.DeepEqual(tb.sizes, want) || tb.rows != 0 {
		t.Fatalf("batches %v, %d rows left; want %v and none left", tb.sizes, tb.rows, want)
	}
	// A pause between batches, none after the last; jittered by ±50%:
	// Rand 0.75 gives 100ms × (1 + 0.5 × 0.5).
	if want := []time.Duration{125 * time.Millisecond, 125 * time.Millisecond}; !reflect.DeepEqual(tb.pauses, want) {
		t.Fatalf("pauses %v; want %v", tb.pauses, want)
	}
	exact := &table{rows: 20}
	if err := exact.loop(10).Run(context.Background(), exact.work); err != nil {
		t.Fatal(err)
	}
	if want := []int{10, 10, 10}; !reflect.DeepEqual(exact.sizes, want) {
		t.Fatalf("rows a multiple of the size: batches %v; want %v (the empty one says it is over)", exact.sizes, want)
	}
}

func TestLoopShrinksAfterATimeout(t *testing.T) {
	for _, timeout := range []error{context.DeadlineExceeded, errors.Join(errors.New("driver: canceling statement"), context.DeadlineExceeded)} {
		tb := &table{rows: 100, slowAt: 30, timeout: timeout}
		var shrinks [][2]int
		l := tb.loop(100)
		l.Shrunk = func(from, to int) { shrinks = append(shrinks, [2]int{from, to}) }
		if err := l.Run(context.Background(), tb.work); err != nil {
			t.Fatal(err)
		}
		// 100 and 50 time out; 25 goes through and stays.
		if want := []int{100, 50, 25, 25, 25, 25, 25}; !reflect.DeepEqual(tb.sizes, want) || tb.rows != 0 {
			t.Fatalf("batches %v, %d left; want %v and none left", tb.sizes, tb.rows, want)
		}
		if want := [][2]int{{100, 50}, {50, 25}}; !reflect.DeepEqual(shrinks, want) {
			t.Fatalf("shrinks %v; want %v", shrinks, want)
		}
	}
}

func TestLoopGivesUpAtItsSmallestBatch(t *testing.T) {
	tb := &table{rows: 100, slowAt: 1, timeout: context.DeadlineExceeded}
	l := tb.loop(8)
	l.MinSize = 2
	if err := l.Run(context.Background(), tb.work); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("every batch timing out: %v; want the timeout", err)
	}
	if want := []int{8, 4, 2}; !reflect.DeepEqual(tb.sizes, want) {
		t.Fatalf("batches %v; want %v", tb.sizes, want)
	}
}

func TestLoopStopsOnOtherErrorsAndOnItsContext(t *testing.T) {
	boom := errors.New("boom")
	tb := &table{rows: 100, slowAt: 1, timeout: boom}
	if err := tb.loop(8).Run(context.Background(), tb.work); !errors.Is(err, boom) || len(tb.sizes) != 1 {
		t.Fatalf("a failing batch: %v after %v; want boom after one batch", err, tb.sizes)
	}
	// A timeout of the caller's context is not the batch's: no retry.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tb = &table{rows: 100, slowAt: 1, timeout: context.DeadlineExceeded}
	if err := tb.loop(8).Run(ctx, tb.work); err == nil || len(tb.sizes) != 1 {
		t.Fatalf("an ended context: %v after %v; want an error after one batch", err, tb.sizes)
	}
	// The context ending during a pause ends the loop.
	tb = &table{rows: 100}
	l := tb.loop(10)
	l.Sleep = func(context.Context, time.Duration) error { return context.Canceled }
	if err := l.Run(context.Background(), tb.work); !errors.Is(err, context.Canceled) || len(tb.sizes) != 1 {
		t.Fatalf("cancelled in a pause: %v after %v; want Canceled after one batch", err, tb.sizes)
	}
}

func TestLoopTakesTheNextSizeTheWorkAsks(t *testing.T) {
	var sizes []int
	l := &Loop{Size: 4, Pause: -1}
	err := l.Run(context.Background(), func(_ context.Context, b *Batch) error {
		sizes = append(sizes, b.Size)
		b.N, b.Next = int64(b.Size), b.Size*2
		if len(sizes) == 3 {
			b.N = 1
		}
		return nil
	})
	if want := []int{4, 8, 16}; err != nil || !reflect.DeepEqual(sizes, want) {
		t.Fatalf("sizes %v (%v); want %v", sizes, err, want)
	}
}

func TestLoopTimesOutABatch(t *testing.T) {
	l := &Loop{Size: 2, MinSize: 2, Timeout: time.Millisecond}
	err := l.Run(context.Background(), func(ctx context.Context, b *Batch) error {
		<-ctx.Done() // a statement that outlives its batch's timeout
		return errors.New("driver: query cancelled")
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a batch past its timeout: %v; want it reported as a timeout", err)
	}
}

// clock is a fake clock that only Advance moves (pkg/testkit's would
// import this package back through the engine).
type clock struct{ t time.Time }

func newClock() *clock                   { return &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }
func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

// timedTable is a table whose batches take perUnit for each unit asked,
// on a fake clock.
func timedTable(rows int64, perUnit time.Duration) (*table, *clock, Work) {
	tb := &table{rows: rows}
	clock := newClock()
	return tb, clock, func(ctx context.Context, b *Batch) error {
		clock.Advance(time.Duration(b.Size) * perUnit)
		return tb.work(ctx, b)
	}
}

func TestLoopAimsBatchesAtTheTarget(t *testing.T) {
	// 1ms a unit, 100ms a batch wanted: a batch of 400 halves twice, one
	// of 10 doubles until it is near 100, and neither passes the target.
	tb, clock, work := timedTable(1000, time.Millisecond)
	l := &Loop{Size: 400, MaxSize: 1000, Target: 100 * time.Millisecond, Pause: -1, Now: clock.Now}
	if err := l.Run(context.Background(), work); err != nil {
		t.Fatal(err)
	}
	if want := []int{400, 200, 100, 100, 100, 100, 100}; !reflect.DeepEqual(tb.sizes, want) || tb.rows != 0 {
		t.Fatalf("batches %v, %d left; want %v and none left", tb.sizes, tb.rows, want)
	}
	tb, clock, work = timedTable(1000, time.Millisecond)
	l = &Loop{Size: 10, MaxSize: 1000, Target: 100 * time.Millisecond, Pause: -1, Now: clock.Now}
	if err := l.Run(context.Background(), work); err != nil {
		t.Fatal(err)
	}
	if want := []int{10, 20, 40, 80, 100, 100, 100, 100, 100, 100, 100, 100, 100}; !reflect.DeepEqual(tb.sizes, want) {
		t.Fatalf("growing: batches %v; want %v", tb.sizes, want)
	}
	// MaxSize (else the first Size) and the work's own Next cap the growth.
	tb, clock, work = timedTable(200, time.Millisecond)
	l = &Loop{Size: 10, Target: 100 * time.Millisecond, Pause: -1, Now: clock.Now}
	if err := l.Run(context.Background(), work); err != nil {
		t.Fatal(err)
	}
	if tb.sizes[1] != 10 {
		t.Fatalf("no MaxSize: batches %v; want them capped at the first size, 10", tb.sizes)
	}
	var sizes []int
	clock = newClock()
	l = &Loop{Size: 10, MaxSize: 1000, Target: 100 * time.Millisecond, Pause: -1, Now: clock.Now}
	err := l.Run(context.Background(), func(_ context.Context, b *Batch) error {
		clock.Advance(time.Duration(b.Size) * time.Millisecond)
		sizes = append(sizes, b.Size)
		b.N, b.Next = int64(b.Size), 15
		if len(sizes) == 3 {
			b.N = 0
		}
		return nil
	})
	if want := []int{10, 15, 15}; err != nil || !reflect.DeepEqual(sizes, want) {
		t.Fatalf("work asking for 15: sizes %v (%v); want %v", sizes, err, want)
	}
}

// TestLoopPausesOnlyAfterSlowBatches runs batches of 10, 30, 10 and 5 ms
// with PauseOver 20 ms: only the 30 ms batch is followed by a pause, and
// without PauseOver every batch but the last is.
func TestLoopPausesOnlyAfterSlowBatches(t *testing.T) {
	times := []time.Duration{10 * time.Millisecond, 30 * time.Millisecond, 10 * time.Millisecond, 5 * time.Millisecond}
	for _, tc := range []struct {
		over time.Duration
		want int
	}{{20 * time.Millisecond, 1}, {0, 3}} {
		tb := &table{rows: 35}
		clock := newClock()
		l := tb.loop(10)
		l.Now, l.PauseOver = clock.Now, tc.over
		i := 0
		err := l.Run(context.Background(), func(ctx context.Context, b *Batch) error {
			clock.Advance(times[i])
			i++
			return tb.work(ctx, b)
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(tb.sizes) != 4 || len(tb.pauses) != tc.want {
			t.Fatalf("PauseOver %s: %d batches, pauses %v; want 4 batches and %d pauses", tc.over, len(tb.sizes), tb.pauses, tc.want)
		}
	}
}
