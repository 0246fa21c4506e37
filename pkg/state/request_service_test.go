package state_test

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
)

func TestCreateGet(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		r, created, err := b.requests.Create(ctx, admin, dsr.NewRequest{
			Type: dsr.TypeErasure, Email: " \tAlice.Smith+cv@EXAMPLE.Org \n", Tenant: "studio-a"})
		if err != nil || !created {
			t.Fatalf("create: created=%v err=%v", created, err)
		}
		const email = "Alice.Smith+cv@example.org"
		created0 := t0.Truncate(time.Microsecond)
		want := dsr.Request{ID: r.ID, Type: dsr.TypeErasure, Status: dsr.StatusPending, Tenant: "studio-a",
			Email: email, Subject: subjectOf(email), CreatedAt: created0, UpdatedAt: created0,
			DueAt: created0.Add(30 * 24 * time.Hour)}

		got, err := b.requests.Get(ctx, admin, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for name, g := range map[string]*dsr.Request{"created": r, "read back": got} {
			if g.ID != want.ID || g.Type != want.Type || g.Status != want.Status || g.Tenant != want.Tenant ||
				g.Email != want.Email || g.Subject != want.Subject || !g.CreatedAt.Equal(want.CreatedAt) ||
				!g.UpdatedAt.Equal(want.UpdatedAt) || !g.DueAt.Equal(want.DueAt) || g.ExtendedDays != 0 ||
				g.StartedAt != nil || g.FinishedAt != nil || g.Err != nil || g.Attempts != 0 {
				t.Errorf("%s request = %+v\nwant %+v", name, *g, want)
			}
		}
		if q := b.enqueuedIDs(); len(q) != 1 || q[0] != r.ID {
			t.Errorf("enqueued %v, want [%s]", q, r.ID)
		}

		entries, err := b.audit.List(ctx, dsr.AuditFilter{RequestID: r.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Action != "request.created" || entries[0].Actor != "admin" ||
			entries[0].Subject != want.Subject || entries[0].Tenant != "studio-a" {
			t.Fatalf("audit entries = %+v, want one request.created by admin for the subject", entries)
		}
		var raw []map[string]any
		b.db.Gorm.Raw("SELECT * FROM lethe_audit").Scan(&raw)
		for _, row := range raw {
			for col, v := range row {
				if s, ok := v.(string); ok && strings.Contains(strings.ToLower(s), "alice.smith") {
					t.Errorf("lethe_audit.%s holds the email: %q", col, s)
				}
			}
		}

		byKey := b.create(t, tenantCaller("studio-b"), dsr.TypeAccess, "bob@example.com", "")
		if byKey.Tenant != "studio-b" {
			t.Errorf("tenant key's request has tenant %q, want its own studio-b", byKey.Tenant)
		}
		entries, _ = b.audit.List(ctx, dsr.AuditFilter{RequestID: byKey.ID})
		if len(entries) != 1 || entries[0].Actor != "key:key-studio-b" {
			t.Errorf("audit of a tenant key's request = %+v, want actor key:key-studio-b", entries)
		}
	})
}

func TestCreateRejects(t *testing.T) {
	t.Parallel()
	const email = "victim.person@example.com"
	cases := []struct {
		name   string
		caller dsr.Caller
		in     dsr.NewRequest
		code   string
	}{
		{name: "unknown type", caller: admin, in: dsr.NewRequest{Type: "delete", Email: email}, code: dsr.EUNPROCESSABLE},
		{name: "no type", caller: admin, in: dsr.NewRequest{Email: email}, code: dsr.EUNPROCESSABLE},
		{name: "no email", caller: admin, in: dsr.NewRequest{Type: dsr.TypeErasure, Email: "  "}, code: dsr.EUNPROCESSABLE},
		{name: "display name", caller: admin, in: dsr.NewRequest{Type: dsr.TypeErasure, Email: "Victim <" + email + ">"}, code: dsr.EUNPROCESSABLE},
		{name: "undotted domain", caller: admin, in: dsr.NewRequest{Type: dsr.TypeErasure, Email: "victim.person@localhost"}, code: dsr.EUNPROCESSABLE},
		{name: "two addresses", caller: admin, in: dsr.NewRequest{Type: dsr.TypeErasure, Email: email + ", other@example.com"}, code: dsr.EUNPROCESSABLE},
		{name: "bad tenant", caller: admin, in: dsr.NewRequest{Type: dsr.TypeErasure, Email: email, Tenant: "-studio"}, code: dsr.EUNPROCESSABLE},
		{name: "anonymous caller", caller: anon, in: dsr.NewRequest{Type: dsr.TypeErasure, Email: email}, code: dsr.EUNAUTHORIZED},
		{name: "another tenant", caller: tenantCaller("studio-b"), in: dsr.NewRequest{Type: dsr.TypeErasure, Email: email, Tenant: "studio-a"}, code: dsr.EFORBIDDEN},
		{name: "idempotency key too long", caller: admin, in: dsr.NewRequest{Type: dsr.TypeErasure, Email: email, IdempotencyKey: strings.Repeat("k", 201)}, code: dsr.EINVALID},
	}
	forEachDialect(t, func(t *testing.T, b *bundle) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := b.rowCounts(t)
				_, _, err := b.requests.Create(context.Background(), tc.caller, tc.in)
				wantCode(t, err, tc.code)
				if msg := strings.ToLower(dsr.ErrorMessage(err)); strings.Contains(msg, "victim.person") {
					t.Errorf("message repeats the email: %q", msg)
				}
				if after := b.rowCounts(t); after != before {
					t.Errorf("rows (requests, audit, jobs) went from %v to %v", before, after)
				}
			})
		}
	})
}

// TestCreateRollsBackWithEnqueue checks that the request, its audit entry and
// its job are one transaction: a failed enqueue leaves nothing behind.
func TestCreateRollsBackWithEnqueue(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		b.create(t, admin, dsr.TypeAccess, "first@example.com", "")
		before := b.rowCounts(t)
		b.requests.Enqueue = func(context.Context, *sql.Tx, string) error { return errors.New("queue is down") }
		_, _, err := b.requests.Create(ctx, admin, dsr.NewRequest{Type: dsr.TypeErasure, Email: "second@example.com"})
		wantCode(t, err, dsr.EINTERNAL)
		if after := b.rowCounts(t); after != before {
			t.Errorf("rows (requests, audit, jobs) went from %v to %v", before, after)
		}
		if v, err := b.audit.Verify(ctx); err != nil || !v.OK || v.Entries != 1 {
			t.Errorf("audit after a rolled-back create: %+v, %v", v, err)
		}
	})
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		first, created, err := b.requests.Create(ctx, admin, dsr.NewRequest{Type: dsr.TypeErasure, Email: "ida@example.com", IdempotencyKey: "k1"})
		if err != nil || !created {
			t.Fatalf("first create: created=%v err=%v", created, err)
		}
		cases := []struct {
			name     string
			caller   dsr.Caller
			in       dsr.NewRequest
			code     string
			sameAsK1 bool
		}{
			{name: "replay", caller: admin, in: dsr.NewRequest{Type: dsr.TypeErasure, Email: "ida@example.com", IdempotencyKey: "k1"}, sameAsK1: true},
			{name: "replay with the domain in capitals", caller: admin, in: dsr.NewRequest{Type: dsr.TypeErasure, Email: " ida@EXAMPLE.COM", IdempotencyKey: "k1"}, sameAsK1: true},
			{name: "reused for another email", caller: admin, in: dsr.NewRequest{Type: dsr.TypeErasure, Email: "other@example.com", IdempotencyKey: "k1"}, code: dsr.ECONFLICT},
			{name: "reused for another type", caller: admin, in: dsr.NewRequest{Type: dsr.TypeAccess, Email: "ida@example.com", IdempotencyKey: "k1"}, code: dsr.ECONFLICT},
			{name: "reused for another tenant", caller: admin, in: dsr.NewRequest{Type: dsr.TypeErasure, Email: "ida@example.com", Tenant: "studio-a", IdempotencyKey: "k1"}, code: dsr.ECONFLICT},
			{name: "same key from a tenant key is its own", caller: tenantCaller("studio-a"), in: dsr.NewRequest{Type: dsr.TypeErasure, Email: "ida@example.com", IdempotencyKey: "k1"}},
			{name: "another key", caller: admin, in: dsr.NewRequest{Type: dsr.TypeErasure, Email: "ida@example.com", IdempotencyKey: "k2"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := b.rowCounts(t)
				r, created, err := b.requests.Create(ctx, tc.caller, tc.in)
				if tc.code != "" {
					wantCode(t, err, tc.code)
					if after := b.rowCounts(t); after != before {
						t.Errorf("rows went from %v to %v", before, after)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				after := b.rowCounts(t)
				switch {
				case tc.sameAsK1 && (created || r.ID != first.ID):
					t.Errorf("replay gave %s created=%v, want %s created=false", r.ID, created, first.ID)
				case tc.sameAsK1 && after != before:
					t.Errorf("replay wrote rows: %v → %v", before, after)
				case !tc.sameAsK1 && (!created || r.ID == first.ID):
					t.Errorf("got %s created=%v, want a new request", r.ID, created)
				case !tc.sameAsK1 && after.requests != before.requests+1:
					t.Errorf("requests went from %d to %d, want one more", before.requests, after.requests)
				}
			})
		}
		// The key is remembered after the request has ended and its email
		// is forgotten; and what remembers the body is not a bare hash of
		// the email, which anyone could recompute from a guessed address.
		if _, err := b.requests.Cancel(ctx, admin, first.ID, "no longer wanted"); err != nil {
			t.Fatal(err)
		}
		r, created, err := b.requests.Create(ctx, admin, dsr.NewRequest{Type: dsr.TypeErasure, Email: "ida@example.com", IdempotencyKey: "k1"})
		if err != nil || created || r.ID != first.ID {
			t.Errorf("replay after cancel: %v created=%v err=%v", r, created, err)
		}
		var hash string
		b.db.Gorm.Raw("SELECT idem_hash FROM lethe_requests WHERE id = ?", first.ID).Scan(&hash)
		if hash == "" || hash == unkeyedSHA256("erasure\x00ida@example.com\x00") {
			t.Errorf("idem_hash %q is empty or an unkeyed hash of the email", hash)
		}
	})
}

func TestCancel(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		prepare func(t *testing.T, b *bundle, id string) // moves the request first
		caller  dsr.Caller
		id      string // overrides the request's id
		code    string
	}{
		{name: "pending", caller: admin},
		{name: "pending by its tenant's key", caller: tenantCaller("studio-a")},
		{name: "running", caller: admin, code: dsr.ECONFLICT, prepare: func(t *testing.T, b *bundle, id string) {
			if _, _, err := b.runs.Start(context.Background(), id, b.clock.Now()); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "already cancelled", caller: admin, code: dsr.ECONFLICT, prepare: func(t *testing.T, b *bundle, id string) {
			if _, err := b.requests.Cancel(context.Background(), admin, id, "no longer wanted"); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "another tenant's", caller: tenantCaller("studio-b"), code: dsr.ENOTFOUND},
		{name: "unknown id", caller: admin, id: "0190f3a0-0000-7000-8000-000000000000", code: dsr.ENOTFOUND},
		{name: "not an id", caller: admin, id: "../etc", code: dsr.ENOTFOUND},
	}
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := b.create(t, admin, dsr.TypeErasure, "carol@example.com", "studio-a")
				if tc.prepare != nil {
					tc.prepare(t, b, r.ID)
				}
				id := r.ID
				if tc.id != "" {
					id = tc.id
				}
				before, _ := b.requests.Get(ctx, admin, r.ID)
				b.clock.Advance(time.Hour)
				got, err := b.requests.Cancel(ctx, tc.caller, id, "no longer wanted")
				if tc.code != "" {
					wantCode(t, err, tc.code)
					if after, _ := b.requests.Get(ctx, admin, r.ID); after.Status != before.Status || after.Email != before.Email {
						t.Errorf("refused cancel changed the request: %s → %s", before.Status, after.Status)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				now := b.clock.Now().Truncate(time.Microsecond)
				if got.Status != dsr.StatusCancelled || got.FinishedAt == nil || !got.FinishedAt.Equal(now) || got.Email != "" {
					t.Errorf("cancelled request = %+v", *got)
				}
				if n := b.count(t, "lethe_requests", "id = ? AND email IS NULL AND status = ?", r.ID, "cancelled"); n != 1 {
					t.Error("the stored request still holds the email or is not cancelled")
				}
				if n := b.count(t, "lethe_audit", "request_id = ? AND action = ?", r.ID, "request.cancelled"); n != 1 {
					t.Errorf("%d request.cancelled audit entries, want 1", n)
				}
			})
		}
	})
}

func TestExtend(t *testing.T) {
	t.Parallel()
	type step struct {
		days   int
		reason string
		code   string
	}
	cases := []struct {
		name     string
		steps    []step
		wantDays int
		reason   string
	}{
		{name: "30 days", steps: []step{{30, "records in an archive", ""}}, wantDays: 30, reason: "records in an archive"},
		{name: "60 days in two steps", steps: []step{{30, "first", ""}, {30, "second", ""}}, wantDays: 60, reason: "second"},
		{name: "61 days at once", steps: []step{{61, "too long", dsr.EUNPROCESSABLE}}},
		{name: "past 60 in total", steps: []step{{45, "first", ""}, {16, "second", dsr.EUNPROCESSABLE}}, wantDays: 45, reason: "first"},
		{name: "no reason", steps: []step{{10, " \n ", dsr.EUNPROCESSABLE}}},
		{name: "zero days", steps: []step{{0, "why", dsr.EUNPROCESSABLE}}},
		{name: "negative days", steps: []step{{-5, "why", dsr.EUNPROCESSABLE}}},
		{name: "reason too long", steps: []step{{5, strings.Repeat("r", 1001), dsr.EUNPROCESSABLE}}},
		{name: "a total that overflows", steps: []step{{1, "first", ""}, {math.MaxInt, "overflow", dsr.EUNPROCESSABLE}}, wantDays: 1, reason: "first"},
	}
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := b.create(t, admin, dsr.TypeAccess, "dave@example.com", "studio-a")
				done := 0
				for _, s := range tc.steps {
					_, err := b.requests.Extend(ctx, admin, r.ID, s.days, s.reason)
					wantCode(t, err, s.code)
					if err == nil {
						done++
					}
				}
				got, err := b.requests.Get(ctx, admin, r.ID)
				if err != nil {
					t.Fatal(err)
				}
				wantDue := r.DueAt.Add(time.Duration(tc.wantDays) * 24 * time.Hour)
				if got.ExtendedDays != tc.wantDays || !got.DueAt.Equal(wantDue) || got.ExtensionReason != tc.reason {
					t.Errorf("extended %d days to %s (%q), want %d days to %s (%q)",
						got.ExtendedDays, got.DueAt, got.ExtensionReason, tc.wantDays, wantDue, tc.reason)
				}
				if n := b.count(t, "lethe_audit", "request_id = ? AND action = ?", r.ID, "request.extended"); n != int64(done) {
					t.Errorf("%d request.extended audit entries, want %d", n, done)
				}
			})
		}
		t.Run("ended request", func(t *testing.T) {
			r := b.create(t, admin, dsr.TypeAccess, "dave@example.com", "")
			if _, err := b.requests.Cancel(ctx, admin, r.ID, "no longer wanted"); err != nil {
				t.Fatal(err)
			}
			_, err := b.requests.Extend(ctx, admin, r.ID, 10, "late")
			wantCode(t, err, dsr.ECONFLICT)
		})
		t.Run("another tenant's request", func(t *testing.T) {
			r := b.create(t, admin, dsr.TypeAccess, "dave@example.com", "studio-a")
			_, err := b.requests.Extend(ctx, tenantCaller("studio-b"), r.ID, 10, "mine?")
			wantCode(t, err, dsr.ENOTFOUND)
			if got, _ := b.requests.Get(ctx, admin, r.ID); got.ExtendedDays != 0 || !got.DueAt.Equal(r.DueAt) {
				t.Errorf("another tenant moved the deadline to %s", got.DueAt)
			}
		})
	})
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		a := b.create(t, admin, dsr.TypeErasure, "erin@example.com", "studio-a")
		bb := b.create(t, tenantCaller("studio-b"), dsr.TypeErasure, "frank@example.com", "")
		all := b.create(t, admin, dsr.TypeErasure, "grace@example.com", "") // across all tenants: admin only
		keyA, keyB := tenantCaller("studio-a"), tenantCaller("studio-b")

		for _, tc := range []struct {
			name   string
			caller dsr.Caller
			id     string
			code   string
		}{
			{name: "own tenant", caller: keyA, id: a.ID},
			{name: "admin", caller: admin, id: bb.ID},
			{name: "other tenant", caller: keyB, id: a.ID, code: dsr.ENOTFOUND},
			{name: "tenant key on an all-tenant request", caller: keyA, id: all.ID, code: dsr.ENOTFOUND},
			{name: "anonymous", caller: anon, id: all.ID, code: dsr.ENOTFOUND},
		} {
			t.Run("get "+tc.name, func(t *testing.T) {
				got, err := b.requests.Get(ctx, tc.caller, tc.id)
				wantCode(t, err, tc.code)
				if err == nil && got.ID != tc.id {
					t.Errorf("got %s, want %s", got.ID, tc.id)
				}
			})
		}

		for _, tc := range []struct {
			name   string
			caller dsr.Caller
			filter dsr.RequestFilter
			want   []string
			code   string
		}{
			{name: "tenant key sees its own", caller: keyB, want: []string{bb.ID}},
			{name: "tenant key asking for another tenant", caller: keyB, filter: dsr.RequestFilter{Tenant: "studio-a"}, want: []string{}},
			{name: "tenant key asking for its own", caller: keyA, filter: dsr.RequestFilter{Tenant: "studio-a"}, want: []string{a.ID}},
			{name: "admin sees all", caller: admin, want: []string{all.ID, bb.ID, a.ID}},
			{name: "admin filters a tenant", caller: admin, filter: dsr.RequestFilter{Tenant: "studio-b"}, want: []string{bb.ID}},
			{name: "anonymous", caller: anon, code: dsr.EUNAUTHORIZED},
		} {
			t.Run("list "+tc.name, func(t *testing.T) {
				page, err := b.requests.List(ctx, tc.caller, tc.filter)
				wantCode(t, err, tc.code)
				if err != nil {
					return
				}
				if got := ids(page.Items); strings.Join(got, ",") != strings.Join(tc.want, ",") {
					t.Errorf("listed %v, want %v", got, tc.want)
				}
			})
		}

		t.Run("tenant key cannot act on another tenant's request", func(t *testing.T) {
			before := b.rowCounts(t)
			_, err := b.requests.Cancel(ctx, keyB, a.ID, "no longer wanted")
			wantCode(t, err, dsr.ENOTFOUND)
			_, err = b.requests.Extend(ctx, keyB, a.ID, 10, "mine?")
			wantCode(t, err, dsr.ENOTFOUND)
			_, _, err = b.requests.Create(ctx, keyB, dsr.NewRequest{Type: dsr.TypeAccess, Email: "x@example.com", Tenant: "studio-a"})
			wantCode(t, err, dsr.EFORBIDDEN)
			if after := b.rowCounts(t); after != before {
				t.Errorf("rows went from %v to %v", before, after)
			}
			if got, _ := b.requests.Get(ctx, admin, a.ID); got.Status != dsr.StatusPending || got.ExtendedDays != 0 {
				t.Errorf("another tenant changed the request: %+v", *got)
			}
		})
	})
}

// TestCreateWritesEveryColumn: on Postgres a request is filed by a plain
// INSERT naming its columns; every column of lethe_requests must be among
// them, or a column added later would be left at its default when filing.
func TestCreateWritesEveryColumn(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		if b.dialect != state.Postgres {
			t.Skip("the plain INSERT is Postgres's")
		}
		var cols []string
		if err := b.db.Gorm.Raw(`SELECT column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = 'lethe_requests'`).Scan(&cols).Error; err != nil {
			t.Fatal(err)
		}
		if len(cols) == 0 {
			t.Fatal("lethe_requests has no columns")
		}
		for _, c := range cols {
			if !slices.Contains(state.RequestColumns, c) {
				t.Errorf("column %s of lethe_requests is not written when filing", c)
			}
		}
	})
}
