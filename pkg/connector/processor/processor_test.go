package processor_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector/processor"
)

var secret = []byte("hook-secret")

var notice = engine.Notice{RequestID: "req-1", Type: "erasure",
	Identities: map[string][]string{"email": {"ada@example.com"}, "app.users.id": {"1"}}}

// TestFailsTwiceThenConfirms: a real HTTP processor answers 503 twice, then
// 200; every attempt carries a valid signature over the body it received.
func TestFailsTwiceThenConfirms(t *testing.T) {
	var calls atomic.Int32
	var bad atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := processor.Verify(secret, r.Header.Get(processor.Header), body, time.Now(), 5*time.Minute); err != nil {
			bad.Store(err)
		}
		var got struct {
			RequestID  string              `json:"request_id"`
			Identities map[string][]string `json:"identities"`
		}
		if json.Unmarshal(body, &got) != nil || got.RequestID != "req-1" || got.Identities["email"][0] != "ada@example.com" {
			bad.Store(errors.New("body: " + string(body)))
		}
		if r.Header.Get("Idempotency-Key") != "req-1" {
			bad.Store(errors.New("no idempotency key"))
		}
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	p := &processor.Processor{Name: "llm", URL: srv.URL, Secret: secret, Deadline: 10 * time.Second,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
	n, err := p.Notify(context.Background(), notice, time.Now())
	if err != nil || n != 3 || calls.Load() != 3 {
		t.Fatalf("Notify = %d, %v after %d calls; want 3 attempts", n, err, calls.Load())
	}
	if e := bad.Load(); e != nil {
		t.Errorf("processor saw: %v", e)
	}
}

// TestNeverAnswers: a processor that holds every request open is given up
// on at the deadline with ErrUnconfirmed naming it.
func TestNeverAnswers(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	p := &processor.Processor{Name: "slowvendor", URL: srv.URL, Secret: secret, Deadline: 600 * time.Millisecond,
		MinBackoff: 10 * time.Millisecond, AttemptTimeout: 200 * time.Millisecond}
	start := time.Now()
	n, err := p.Notify(context.Background(), notice, start)
	if !errors.Is(err, engine.ErrUnconfirmed) || n < 2 {
		t.Fatalf("Notify = %d, %v; want ErrUnconfirmed after several attempts", n, err)
	}
	if el := time.Since(start); el < 500*time.Millisecond || el > 3*time.Second {
		t.Errorf("gave up after %s, want about the 600ms deadline", el)
	}
	if got := err.Error(); !contains(got, "slowvendor") || contains(got, "ada@") {
		t.Errorf("error %q should name the processor and no person", got)
	}
	// The deadline counts from the first attempt: a resumed run past it does not try again.
	if n, err := p.Notify(context.Background(), notice, start.Add(-time.Hour)); !errors.Is(err, engine.ErrUnconfirmed) || n != 0 {
		t.Errorf("past the deadline: %d %v", n, err)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"request_id":"r"}`)
	now := time.Now()
	h := processor.Sign(secret, now, body)
	for _, tc := range []struct {
		name   string
		secret []byte
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"good", secret, h, body, now, nil},
		{"changed body", secret, h, []byte(`{"request_id":"s"}`), now, processor.ErrBadSignature},
		{"other secret", []byte("x"), h, body, now, processor.ErrBadSignature},
		{"replayed later", secret, h, body, now.Add(10 * time.Minute), processor.ErrStale},
		{"malformed", secret, "v1=abc", body, now, processor.ErrMalformed},
	} {
		if err := processor.Verify(tc.secret, tc.header, tc.body, tc.now, 5*time.Minute); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
