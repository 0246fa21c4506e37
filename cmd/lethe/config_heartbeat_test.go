package main

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestHeartbeatBounds: LETHE_HEARTBEAT takes a duration from 100ms to 10s;
// a longer one would let a dead process's requests wait past 30 seconds,
// and the error names the variable.
func TestHeartbeatBounds(t *testing.T) {
	for raw, want := range map[string]time.Duration{"": 5 * time.Second, "250ms": 250 * time.Millisecond, "10s": 10 * time.Second} {
		c := Config{Heartbeat: raw}
		if got, err := c.heartbeat(); err != nil || got != want {
			t.Errorf("heartbeat %q = %s, %v; want %s", raw, got, err, want)
		}
	}
	for _, raw := range []string{"11s", "50ms", "often"} {
		c := Config{Heartbeat: raw}
		if _, err := c.heartbeat(); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "LETHE_HEARTBEAT") {
			t.Errorf("heartbeat %q: %v; want a usage error naming LETHE_HEARTBEAT", raw, err)
		}
	}
}
