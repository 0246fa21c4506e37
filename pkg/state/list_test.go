package state_test

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
)

func TestListFilters(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		file := func(c dsr.Caller, typ dsr.Type, tenant string) string {
			r := b.create(t, c, typ, "henry@example.com", tenant)
			b.clock.Advance(time.Minute)
			return r.ID
		}
		r1 := file(admin, dsr.TypeErasure, "studio-a")
		r2 := file(tenantCaller("studio-a"), dsr.TypeAccess, "")
		r3 := file(admin, dsr.TypeErasure, "studio-b")
		r4 := file(admin, dsr.TypeAccess, "studio-b")
		r5 := file(admin, dsr.TypeErasure, "")
		if _, err := b.requests.Cancel(ctx, admin, r4, "no longer wanted"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.runs.Start(ctx, r5, b.clock.Now()); err != nil {
			t.Fatal(err)
		}
		b.clock.Advance(10 * 24 * time.Hour)
		r6 := file(admin, dsr.TypeErasure, "studio-a") // due 10 days after the others

		page, err := b.requests.List(ctx, admin, dsr.RequestFilter{Overdue: true})
		if err != nil || len(page.Items) != 0 {
			t.Fatalf("overdue before any deadline: %v, %v", ids(page.Items), err)
		}
		b.clock.Advance(21 * 24 * time.Hour) // r1…r5 are 31 days old, r6 21

		cases := []struct {
			name   string
			caller dsr.Caller
			filter dsr.RequestFilter
			want   []string
			code   string
		}{
			{name: "everything, newest first", caller: admin, want: []string{r6, r5, r4, r3, r2, r1}},
			{name: "pending", caller: admin, filter: dsr.RequestFilter{Status: dsr.StatusPending}, want: []string{r6, r3, r2, r1}},
			{name: "cancelled", caller: admin, filter: dsr.RequestFilter{Status: dsr.StatusCancelled}, want: []string{r4}},
			{name: "running", caller: admin, filter: dsr.RequestFilter{Status: dsr.StatusRunning}, want: []string{r5}},
			{name: "completed", caller: admin, filter: dsr.RequestFilter{Status: dsr.StatusCompleted}, want: []string{}},
			{name: "access", caller: admin, filter: dsr.RequestFilter{Type: dsr.TypeAccess}, want: []string{r4, r2}},
			{name: "tenant", caller: admin, filter: dsr.RequestFilter{Tenant: "studio-a"}, want: []string{r6, r2, r1}},
			{name: "tenant and type", caller: admin, filter: dsr.RequestFilter{Tenant: "studio-a", Type: dsr.TypeErasure}, want: []string{r6, r1}},
			{name: "overdue", caller: admin, filter: dsr.RequestFilter{Overdue: true}, want: []string{r5, r3, r2, r1}},
			{name: "overdue of a tenant", caller: admin, filter: dsr.RequestFilter{Overdue: true, Tenant: "studio-b"}, want: []string{r3}},
			{name: "overdue of a tenant key", caller: tenantCaller("studio-a"), filter: dsr.RequestFilter{Overdue: true}, want: []string{r2, r1}},
			{name: "tenant key", caller: tenantCaller("studio-b"), want: []string{r4, r3}},
			{name: "unknown status", caller: admin, filter: dsr.RequestFilter{Status: "lost"}, code: dsr.EUNPROCESSABLE},
			{name: "unknown type", caller: admin, filter: dsr.RequestFilter{Type: "delete"}, code: dsr.EUNPROCESSABLE},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				page, err := b.requests.List(ctx, tc.caller, tc.filter)
				wantCode(t, err, tc.code)
				if err != nil {
					return
				}
				if got := ids(page.Items); strings.Join(got, ",") != strings.Join(tc.want, ",") {
					t.Errorf("listed %v, want %v", got, tc.want)
				}
				if page.NextCursor != "" {
					t.Errorf("a single page has a next cursor %q", page.NextCursor)
				}
			})
		}
	})
}

func TestListPages(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		// Seven requests share one created_at, so pages must break ties by id.
		for i := range 7 {
			b.create(t, admin, dsr.TypeErasure, "ivy@example.com", []string{"studio-a", "studio-b"}[i%2])
		}
		for i := range 6 {
			b.clock.Advance(time.Second)
			b.create(t, admin, dsr.TypeAccess, "ivy@example.com", []string{"studio-a", "studio-b"}[i%2])
		}
		for _, tc := range []struct {
			name   string
			caller dsr.Caller
			filter dsr.RequestFilter
		}{
			{name: "all", caller: admin},
			{name: "one tenant", caller: admin, filter: dsr.RequestFilter{Tenant: "studio-a"}},
			{name: "tenant key", caller: tenantCaller("studio-b")},
			{name: "erasures", caller: admin, filter: dsr.RequestFilter{Type: dsr.TypeErasure}},
		} {
			whole, err := b.requests.List(ctx, tc.caller, dsr.RequestFilter{Tenant: tc.filter.Tenant, Type: tc.filter.Type, Limit: 200})
			if err != nil {
				t.Fatal(err)
			}
			want := ids(whole.Items)
			for _, limit := range []int{1, 2, 3, 5, len(want), 200} {
				t.Run(tc.name+"/limit "+strconv.Itoa(limit), func(t *testing.T) {
					var got []string
					f, pages := tc.filter, 0
					f.Limit = limit
					for {
						page, err := b.requests.List(ctx, tc.caller, f)
						if err != nil {
							t.Fatal(err)
						}
						pages++
						if len(page.Items) > limit {
							t.Fatalf("page of %d items, limit %d", len(page.Items), limit)
						}
						got = append(got, ids(page.Items)...)
						if page.NextCursor == "" || pages > 20 {
							break
						}
						f.Cursor = page.NextCursor
					}
					if strings.Join(got, ",") != strings.Join(want, ",") {
						t.Errorf("pages gave %v\nwant %v", got, want)
					}
					if wantPages := max(1, (len(want)+limit-1)/limit); pages != wantPages {
						t.Errorf("%d pages, want %d", pages, wantPages)
					}
				})
			}
		}
	})
}

func TestListTamperedCursor(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		for range 4 {
			b.create(t, admin, dsr.TypeErasure, "jack@example.com", "studio-a")
			b.clock.Advance(time.Second)
		}
		page, err := b.requests.List(ctx, admin, dsr.RequestFilter{Limit: 2})
		if err != nil || page.NextCursor == "" {
			t.Fatalf("first page: %v", err)
		}
		good := page.NextCursor
		body, sig, _ := strings.Cut(good, ".")
		raw, _ := base64.RawURLEncoding.DecodeString(body)
		forged := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), `"i":"`, `"i":"f`, 1))) + "." + sig
		flipped := good[:len(good)-1] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", good[len(good)-1])+1)%16])

		other := &state.RequestService{DB: b.db, Subject: dsr.NewSubjectHasher([]byte("another-key-of-another-lethe-install")), Audit: b.audit}
		otherPage, err := other.List(ctx, admin, dsr.RequestFilter{Limit: 2})
		if err != nil || otherPage.NextCursor == "" {
			t.Fatalf("other key's page: %v", err)
		}
		cases := []struct {
			name, cursor, code string
		}{
			{name: "issued", cursor: good},
			{name: "garbage", cursor: "not-a-cursor", code: dsr.EINVALID},
			{name: "signature changed", cursor: flipped, code: dsr.EINVALID},
			{name: "body changed", cursor: forged, code: dsr.EINVALID},
			{name: "no signature", cursor: body, code: dsr.EINVALID},
			{name: "empty signature", cursor: body + ".", code: dsr.EINVALID},
			{name: "signed with another key", cursor: otherPage.NextCursor, code: dsr.EINVALID},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := b.requests.List(ctx, admin, dsr.RequestFilter{Limit: 2, Cursor: tc.cursor})
				wantCode(t, err, tc.code)
			})
		}
	})
}
