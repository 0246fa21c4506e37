package testkit

import (
	"errors"
	"testing"
	"time"
)

// TestPoll: poll answers nil as soon as check holds, and check's last
// error once the deadline has passed.
func TestPoll(t *testing.T) {
	calls := 0
	if err := poll(time.Minute, func() error {
		if calls++; calls < 3 {
			return errors.New("not yet")
		}
		return nil
	}); err != nil || calls != 3 {
		t.Fatalf("poll = %v after %d calls; want nil after 3", err, calls)
	}
	start := time.Now()
	n := 0
	err := poll(50*time.Millisecond, func() error { n++; return errors.New("still running") })
	if err == nil || err.Error() != "still running" || n < 2 {
		t.Fatalf("poll past its deadline = %v after %d calls; want the last error after several", err, n)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("poll of 50ms took %s", took)
	}
}

// TestClock: a Clock reads its start until advanced.
func TestClock(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewClock(t0)
	if !c.Now().Equal(t0) {
		t.Fatalf("Now = %s; want %s", c.Now(), t0)
	}
	c.Advance(time.Hour)
	if want := t0.Add(time.Hour); !c.Now().Equal(want) {
		t.Fatalf("after Advance: %s; want %s", c.Now(), want)
	}
}
