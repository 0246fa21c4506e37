package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testdb"
)

// TestEnqueuerBeforeQueue files a request through an Enqueuer on a fresh
// store, before any Queue exists there (as lethe request does), and checks
// that a Queue started later works it.
func TestEnqueuerBeforeQueue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := "sqlite://" + testdb.SQLite(t)
	db, err := state.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	enq, err := queue.NewEnqueuer(ctx, queue.EnqueuerConfig{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	requests := &state.RequestService{DB: db, Subject: dsr.NewSubjectHasher([]byte(subjectKey)),
		Audit: &state.AuditLog{DB: db}, Enqueue: enq.Request}
	r, _, err := requests.Create(ctx, dsr.Caller{Admin: true}, dsr.NewRequest{Type: dsr.TypeErasure, Email: "early@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	counter := &countingExecutor{runs: map[string]int{}}
	s := newServer(t, url, counter, queue.Config{Workers: 1})
	s.start(t)
	s.waitStatus(t, r.ID, dsr.StatusCompleted, 30*time.Second)
	if got := counter.count(r.ID); got != 1 {
		t.Errorf("request executed %d times; want 1", got)
	}
}
