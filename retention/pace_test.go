package retention

import (
	"testing"
	"time"
)

// TestPaceAimsAtTheRecentPace checks a range walk's aim: the recent
// slices' pages over their time, times the target, but no more than one
// and a half targets at the slowest recent slice's pace, until that slice
// leaves the window; a slice far quicker than the target is not the
// slowest, however small.
func TestPaceAimsAtTheRecentPace(t *testing.T) {
	const target = 100 * time.Millisecond
	var p pace
	if got := p.aim(target); got != 0 {
		t.Fatalf("aim with no slice = %d; want 0", got)
	}
	p.add(1000, 100*time.Millisecond) // 10 pages a millisecond
	if got := p.aim(target); got != 1000 {
		t.Fatalf("aim after one slice = %d; want 1000", got)
	}
	p.add(4000, 50*time.Millisecond) // 80 a millisecond
	// The pace of both is 5000/150 ms, aiming at 3333; the slowest allows 1500.
	if got := p.aim(target); got != 1500 {
		t.Fatalf("aim after a quick slice = %d; want 1500 (one and a half targets at the slow one's pace)", got)
	}
	for range paceWindow - 1 {
		p.add(4000, 50*time.Millisecond)
	}
	if got := p.aim(target); got != 8000 {
		t.Fatalf("aim once the slow slice left the window = %d; want 8000", got)
	}
	p.add(10, 10*time.Millisecond) // small, its time mostly the statement's own
	if got := p.aim(target); got != 28010*100/360 {
		t.Fatalf("aim after a small slice = %d; want %d (the pace, the small slice not the slowest)", got, 28010*100/360)
	}
}
