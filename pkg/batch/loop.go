// Package batch runs the bounded loops that delete or rewrite personal
// data, for erasure and retention alike: one batch at a time, each under a
// timeout; a jittered pause between batches so that other writers get the
// table; a smaller batch after one that timed out, or, with a Target, a
// size that follows how long batches take; and an end on a batch shorter
// than asked, which says that nothing is left.
package batch

import (
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// DefaultJitter is the default spread of a Loop's pause: ±50%.
const DefaultJitter = 0.5

// Loop bounds a batched operation. Set Size; the other fields have
// defaults. Sleep and Rand are injected so that tests run without waiting.
type Loop struct {
	// Size is the first batch's size in the work's units (rows, pages);
	// it must be positive.
	Size int
	// MinSize is the smallest size a timed-out batch shrinks to; 0 means 1.
	// A batch of MinSize that times out ends the loop with its error.
	MinSize int
	// Timeout bounds one batch; 0 means none.
	Timeout time.Duration
	// Pause is the mean wait between batches; 0 or negative means none.
	Pause time.Duration
	// PauseOver, when positive, keeps the pause for batches that took
	// longer than it: a quicker batch says the store keeps up with the
	// work beside it, and a pause then only lengthens the loop.
	PauseOver time.Duration
	// Jitter spreads each pause uniformly over Pause × (1 ± Jitter);
	// 0 means DefaultJitter, negative means an exact pause.
	Jitter float64
	// Sleep waits d or until ctx ends, returning ctx's error then; nil
	// means a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0, 1) for the jitter; nil means math/rand.
	Rand func() float64
	// Shrunk, when set, is told of each shrink after a timeout.
	Shrunk func(from, to int)
	// Target, when positive, is how long a batch should take: after each
	// full batch the next size is scaled by Target over the batch's time,
	// by at most a factor of two either way, so that batches stay short
	// (locks held, other writers kept waiting) on a busy or slow store and
	// few (statements, commits, pauses) on a quick one.
	Target time.Duration
	// MaxSize caps the sizes Target grows to; 0 means Size. A size the
	// work asks for (Batch.Next) is a cap too.
	MaxSize int
	// Now reads the clock that times batches for Target; nil means
	// time.Now.
	Now func() time.Time
}

// Batch is one batch of a Loop's work: Size in, N and optionally Next out.
type Batch struct {
	// Size is how many units the batch may handle.
	Size int
	// N is set by the work: the units it handled. Fewer than Size ends the
	// loop.
	N int64
	// Next, when the work sets it, is the size of the following batch (a
	// walk that aims each batch at a number of rows).
	Next int
}

// Work does one batch under ctx, which carries the batch's timeout. It
// must leave things as they were when it fails (one transaction), since a
// timed-out batch is retried smaller.
type Work func(ctx context.Context, b *Batch) error

// Run calls work batch after batch until a short batch, an error or the
// end of ctx. A batch that fails because its own timeout expired (ctx
// still live) is tried again at half the size, down to MinSize.
//
// Errors: work's error, or ctx's error when it ends during a pause.
func (l *Loop) Run(ctx context.Context, work Work) error {
	size := max(l.Size, 1)
	for {
		b := &Batch{Size: size}
		start := l.now()
		err := l.once(ctx, work, b)
		took := l.now().Sub(start)
		switch {
		case err != nil && l.timedOut(ctx, err) && size > l.minSize():
			next := max(size/2, l.minSize())
			if l.Shrunk != nil {
				l.Shrunk(size, next)
			}
			size = next
		case err != nil:
			return err
		case b.N < int64(b.Size):
			return nil
		default:
			size = l.next(b, took)
		}
		if l.PauseOver > 0 && took <= l.PauseOver && err == nil {
			continue
		}
		if err := l.pause(ctx); err != nil {
			return err
		}
	}
}

// once runs one batch under the batch timeout.
func (l *Loop) once(ctx context.Context, work Work, b *Batch) error {
	if l.Timeout <= 0 {
		return work(ctx, b)
	}
	bctx, cancel := context.WithTimeout(ctx, l.Timeout)
	defer cancel()
	err := work(bctx, b)
	if err != nil && bctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
		return errors.Join(err, context.DeadlineExceeded)
	}
	return err
}

// timedOut reports whether err is a batch's own timeout, not ctx's end.
func (l *Loop) timedOut(ctx context.Context, err error) bool {
	return ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded)
}

func (l *Loop) minSize() int { return max(l.MinSize, 1) }

func (l *Loop) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// next is the size of the batch after full batch b, which took took: the
// size the work asked for, else b's; with a Target, aimed at it.
func (l *Loop) next(b *Batch, took time.Duration) int {
	if l.Target <= 0 {
		return cmp.Or(b.Next, b.Size)
	}
	aim := b.Size * 2
	if took > 0 {
		aim = int(min(max(float64(b.Size)*float64(l.Target)/float64(took), float64(b.Size)/2), float64(b.Size)*2))
	}
	aim = min(aim, cmp.Or(l.MaxSize, l.Size))
	if b.Next > 0 {
		aim = min(aim, b.Next)
	}
	return max(aim, l.minSize())
}

// pause waits the jittered pause; ctx's error when ctx ends first.
func (l *Loop) pause(ctx context.Context) error {
	d := l.jittered()
	if d <= 0 {
		return ctx.Err()
	}
	if l.Sleep != nil {
		return l.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// jittered returns Pause spread by Jitter.
func (l *Loop) jittered() time.Duration {
	if l.Pause <= 0 {
		return 0
	}
	j := l.Jitter
	if j == 0 {
		j = DefaultJitter
	}
	if j < 0 {
		return l.Pause
	}
	r := rand.Float64
	if l.Rand != nil {
		r = l.Rand
	}
	return time.Duration(float64(l.Pause) * (1 + j*(2*r()-1)))
}
