package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// runRequest is "lethe request --type T --email E [--tenant T]", which files
// a request as the admin (lethe serve executes it), and "lethe request show ID".
func runRequest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c Config
	var typ, email, tenant string
	show := len(args) > 0 && args[0] == "show"
	fs := newFlagSet("request", stderr)
	c.stateFlags(fs)
	if show {
		args = args[1:]
	} else {
		fs.StringVar(&typ, "type", "", "access or erasure (required)")
		fs.StringVar(&email, "email", "", "the person's email (required)")
		fs.StringVar(&tenant, "tenant", "", "restrict to one tenant")
	}
	var id string
	if show {
		if len(args) == 0 {
			return fmt.Errorf("%w: lethe request show ID", errUsage)
		}
		id, args = args[0], args[1:]
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	db, err := openState(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	audit := &state.AuditLog{DB: db}
	requests := &state.RequestService{DB: db, Subject: dsr.NewSubjectHasher([]byte(c.SubjectKey)), Audit: audit}
	admin := dsr.Caller{Admin: true}
	var r *dsr.Request
	if show {
		r, err = requests.Get(ctx, admin, id)
	} else {
		q, qerr := queue.New(ctx, queue.Config{DB: db, Runner: &dsr.Runner{}})
		if qerr != nil {
			return qerr
		}
		requests.Enqueue = q.Enqueue
		r, _, err = requests.Create(ctx, admin, dsr.NewRequest{Type: dsr.Type(typ), Email: email, Tenant: tenant})
	}
	if err != nil {
		return cliError(err)
	}
	return printJSON(stdout, map[string]any{
		"id": r.ID, "type": r.Type, "status": r.Status, "tenant": r.Tenant, "subject": r.Subject,
		"created_at": r.CreatedAt.Format(time.RFC3339), "due_at": r.DueAt.Format(time.RFC3339),
		"counts": r.Counts, "verification": r.Verification, "error": r.Err,
	})
}
