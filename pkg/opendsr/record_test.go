package opendsr

import (
	"slices"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
)

func TestTransitions(t *testing.T) {
	for _, tc := range []struct {
		name      string
		prev, cur dsr.Status
		started   bool
		want      []string
	}{
		{"new and pending", "", dsr.StatusPending, false, []string{"pending"}},
		{"new and already done", "", dsr.StatusCompleted, true, []string{"pending", "in_progress", "completed"}},
		{"ran between two scans", dsr.StatusPending, dsr.StatusCompleted, true, []string{"in_progress", "completed"}},
		{"running", dsr.StatusPending, dsr.StatusRunning, true, []string{"in_progress"}},
		{"finished", dsr.StatusRunning, dsr.StatusCompleted, true, []string{"completed"}},
		{"cancelled before running", dsr.StatusPending, dsr.StatusCancelled, false, []string{"cancelled"}},
		{"failed while running", dsr.StatusRunning, dsr.StatusFailed, true, []string{"cancelled"}},
		{"denied by a hold", dsr.StatusPending, dsr.StatusDenied, true, []string{"in_progress", "cancelled"}},
		{"hashed identity matched nobody", "", dsr.StatusCompleted, false, []string{"pending", "completed"}},
		{"no change", dsr.StatusPending, dsr.StatusPending, false, nil},
		{"received to pending is no OpenDSR change", dsr.StatusReceived, dsr.StatusPending, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Transitions(tc.prev, tc.cur, tc.started); !slices.Equal(got, tc.want) {
				t.Errorf("Transitions(%q, %q, %v) = %v, want %v", tc.prev, tc.cur, tc.started, got, tc.want)
			}
		})
	}
}

func TestNotBehind(t *testing.T) {
	got := notBehind([]string{"pending", "in_progress", "completed"}, StatusInProgress)
	if !slices.Equal(got, []string{"in_progress", "completed"}) {
		t.Errorf("notBehind = %v", got)
	}
	if got := notBehind([]string{"pending"}, StatusCancelled); len(got) != 0 {
		t.Errorf("a pending retried after cancellation is still sent: %v", got)
	}
}
