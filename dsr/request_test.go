package dsr

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestStatusLifecycle: which statuses are known, final and cancellable;
// a request can be cancelled only before it starts, and nothing leaves a
// final status.
func TestStatusLifecycle(t *testing.T) {
	for _, tc := range []struct {
		status                       Status
		valid, terminal, cancellable bool
	}{
		{StatusReceived, true, false, true},
		{StatusVerifying, true, false, true},
		{StatusAwaitingApproval, true, false, true},
		{StatusPending, true, false, true},
		{StatusRunning, true, false, false},
		{StatusCompleted, true, true, false},
		{StatusFailed, true, true, false},
		{StatusCancelled, true, true, false},
		{StatusDenied, true, true, false},
		{"done", false, false, false},
		{"", false, false, false},
	} {
		if got := tc.status.Valid(); got != tc.valid {
			t.Errorf("%q.Valid() = %v; want %v", tc.status, got, tc.valid)
		}
		if got := tc.status.Terminal(); got != tc.terminal {
			t.Errorf("%q.Terminal() = %v; want %v", tc.status, got, tc.terminal)
		}
		if got := tc.status.Cancellable(); got != tc.cancellable {
			t.Errorf("%q.Cancellable() = %v; want %v", tc.status, got, tc.cancellable)
		}
	}
	if len(Statuses) != 9 {
		t.Errorf("Statuses lists %d statuses; the table above knows 9", len(Statuses))
	}
}

// TestOverdue: a request is overdue once its deadline has passed while it
// is still open; an ended request never is, however late it ended.
func TestOverdue(t *testing.T) {
	created := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	due := created.Add(ResponseWindow)
	for _, tc := range []struct {
		name   string
		status Status
		now    time.Time
		want   bool
	}{
		{"pending before the deadline", StatusPending, due.Add(-time.Second), false},
		{"pending at the deadline", StatusPending, due, false},
		{"pending past the deadline", StatusPending, due.Add(time.Second), true},
		{"running past the deadline", StatusRunning, due.Add(time.Hour), true},
		{"verifying past the deadline", StatusVerifying, due.Add(time.Hour), true},
		{"awaiting approval past the deadline", StatusAwaitingApproval, due.Add(time.Hour), true},
		{"completed past the deadline", StatusCompleted, due.Add(time.Hour), false},
		{"denied past the deadline", StatusDenied, due.Add(time.Hour), false},
	} {
		r := &Request{Status: tc.status, CreatedAt: created, DueAt: due}
		if got := r.Overdue(tc.now); got != tc.want {
			t.Errorf("%s: Overdue = %v; want %v", tc.name, got, tc.want)
		}
	}
	if ResponseWindow != 30*24*time.Hour || MaxExtension != 60*24*time.Hour {
		t.Errorf("deadlines: window %s, extension %s; GDPR Art. 12(3) gives one month plus two", ResponseWindow, MaxExtension)
	}
}

// TestValidateTenant: a tenant is 1-64 letters, digits, '.', '_' or '-',
// starting with a letter or digit; anything else is EUNPROCESSABLE.
func TestValidateTenant(t *testing.T) {
	long := ""
	for range 64 {
		long += "a"
	}
	for _, tc := range []struct {
		tenant string
		ok     bool
	}{
		{"career-coach", true},
		{"Calm_Mind.2", true},
		{"7", true},
		{long, true},
		{long + "a", false},
		{"", false},
		{"-leading", false},
		{".hidden", false},
		{"with space", false},
		{"slash/inside", false},
		{"quote'd", false},
	} {
		err := ValidateTenant(tc.tenant)
		if tc.ok && err != nil {
			t.Errorf("ValidateTenant(%q) = %v; want nil", tc.tenant, err)
		}
		if !tc.ok && ErrorCode(err) != EUNPROCESSABLE {
			t.Errorf("ValidateTenant(%q) = %v; want %s", tc.tenant, err, EUNPROCESSABLE)
		}
	}
}

// TestErrorCodeAndMessage: the first *Error in a chain gives the code and
// message; any other error is internal and says nothing of itself.
func TestErrorCodeAndMessage(t *testing.T) {
	wrapped := fmt.Errorf("load: %w", Errorf(ENOTFOUND, "request r1: not found"))
	if ErrorCode(wrapped) != ENOTFOUND || ErrorMessage(wrapped) != "request r1: not found" {
		t.Errorf("wrapped *Error: %q %q", ErrorCode(wrapped), ErrorMessage(wrapped))
	}
	plain := fmt.Errorf("dial tcp 10.0.0.1:5432: %w", errors.New("connection refused"))
	if ErrorCode(plain) != EINTERNAL || ErrorMessage(plain) != "internal error" {
		t.Errorf("plain error: %q %q; want internal without details", ErrorCode(plain), ErrorMessage(plain))
	}
	if ErrorCode(nil) != "" || ErrorMessage(nil) != "" {
		t.Error("nil has a code or message")
	}
}
