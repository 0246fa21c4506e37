package testkit

import (
	"testing"
	"time"
)

// pollFirst and pollMax bound the pause between two checks of Eventually:
// it starts short, so a quick condition costs little, and doubles up to
// pollMax, so a slow one does not load the machine.
const (
	pollFirst = 10 * time.Millisecond
	pollMax   = 200 * time.Millisecond
)

// Eventually calls check until it returns nil, and fails t (t.Fatalf) when
// within has passed first, with what and the last error check returned, so
// the message says what was awaited and what was seen instead.
func Eventually(t testing.TB, within time.Duration, what string, check func() error) {
	t.Helper()
	if err := poll(within, check); err != nil {
		t.Fatalf("%s: not within %s: %v", what, within, err)
	}
}

// poll is Eventually without t: nil once check returns nil, else check's
// last error when within has passed.
func poll(within time.Duration, check func() error) error {
	deadline := time.Now().Add(within)
	pause := pollFirst
	for {
		err := check()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(pause)
		pause = min(2*pause, pollMax)
	}
}
