package engine_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// identityRegistry reaches people beyond their email: support tickets keyed
// by phone and billing charges keyed by a payment provider's customer id
// (both only through enrichment from app.users), an analytics table keyed
// by the sha256 of the email, and a polymorphic owner_type/owner_id table
// reached by SQL templates.
const identityRegistry = `
stores:
  app:     {kind: sql, driver: %[1]s, dsn_env: APP_DSN}
  billing: {kind: sql, driver: %[1]s, dsn_env: BILLING_DSN}
identities:
  phone: {normalize: e164, region: GB}
  stripe_customer: {normalize: trim}
  email_sha256: {derive: sha256}
enrich:
  - {from: app.users, find: [email, phone, stripe_customer]}
collections:
  app.users:
    identity: {email: email, phone: phone, user_id: id, stripe_customer: stripe_id}
    erasure: delete
  app.tickets:
    identity: {phone: caller}
    erasure: delete
  app.analytics:
    identity: {email_sha256: email_hash}
    erasure: delete
  app.attachments:
    tenant: studio_id
    access: SELECT id, owner_type, owner_id, name FROM attachments WHERE owner_type = 'user' AND owner_id = :app.users.id AND studio_id = COALESCE(:tenant, studio_id)
    count: SELECT count(*) FROM attachments WHERE owner_type = 'user' AND owner_id = :app.users.id AND studio_id = COALESCE(:tenant, studio_id)
    verify: SELECT id FROM attachments WHERE owner_type = 'user' AND owner_id = :app.users.id AND studio_id = COALESCE(:tenant, studio_id)
    erase:
      - DELETE FROM attachments WHERE owner_type = 'user' AND owner_id = :app.users.id AND studio_id = COALESCE(:tenant, studio_id)
  billing.charges:
    identity: {stripe_customer: customer}
    erasure: delete
`

var identityAppDDL = []string{
	`CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL, phone VARCHAR(32), stripe_id VARCHAR(64))`,
	`CREATE TABLE tickets (id BIGINT PRIMARY KEY, caller VARCHAR(32) NOT NULL, body TEXT)`,
	`CREATE TABLE analytics (id BIGINT PRIMARY KEY, email_hash CHAR(64) NOT NULL, event VARCHAR(64))`,
	`CREATE TABLE attachments (id BIGINT PRIMARY KEY, studio_id VARCHAR(64) NOT NULL, owner_type VARCHAR(16) NOT NULL, owner_id BIGINT NOT NULL, name VARCHAR(255))`,
}

var identityBillingDDL = []string{
	`CREATE TABLE charges (id BIGINT PRIMARY KEY, customer VARCHAR(64) NOT NULL, amount BIGINT NOT NULL)`,
}

type identityEnv struct {
	app, billing *sqlstore.Store
	eng          *engine.Engine
}

func emailHash(email string) string {
	sum := sha256.Sum256([]byte(email))
	return hex.EncodeToString(sum[:])
}

// setupIdentities seeds Ann (user 1) and Bob (user 2) with one row each in
// every table; Ann also owns two attachments (one per studio), and a team
// whose id is 1 owns one: a polymorphic row that is not Ann's.
func setupIdentities(t *testing.T, driver string) *identityEnv {
	t.Helper()
	reg := testkit.Registry(t, identityRegistry, driver)
	e := &identityEnv{app: testkit.OpenStore(t, "app", driver, identityAppDDL...), billing: testkit.OpenStore(t, "billing", driver, identityBillingDDL...)}
	for _, u := range []struct {
		id                  int64
		email, phone, cusID string
	}{{1, "Ann@Example.com", "+447700900123", "cus_ANN"}, {2, "bob@example.com", "+447700900456", "cus_BOB"}} {
		testkit.Exec(t, e.app, `INSERT INTO users (id, email, phone, stripe_id) VALUES (?, ?, ?, ?)`, u.id, u.email, u.phone, u.cusID)
		testkit.Exec(t, e.app, `INSERT INTO tickets (id, caller, body) VALUES (?, ?, ?)`, u.id, u.phone, "call me")
		testkit.Exec(t, e.app, `INSERT INTO analytics (id, email_hash, event) VALUES (?, ?, ?)`, u.id, emailHash(dsr.FoldEmail(u.email)), "login")
		testkit.Exec(t, e.app, `INSERT INTO attachments (id, studio_id, owner_type, owner_id, name) VALUES (?, ?, ?, ?, ?)`, u.id*10, "acme", "user", u.id, "cv.pdf")
		testkit.Exec(t, e.billing, `INSERT INTO charges (id, customer, amount) VALUES (?, ?, ?)`, u.id, u.cusID, 42)
	}
	testkit.Exec(t, e.app, `INSERT INTO attachments (id, studio_id, owner_type, owner_id, name) VALUES (11, 'globex', 'user', 1, 'photo.png')`)
	testkit.Exec(t, e.app, `INSERT INTO attachments (id, studio_id, owner_type, owner_id, name) VALUES (99, 'acme', 'team', 1, 'logo.png')`)
	e.eng = engine.New(reg, map[string]connector.Store{"app": e.app, "billing": e.billing}, dsr.NewSubjectHasher([]byte("test-key")))
	return e
}

func identityPlanCounts(p *engine.Plan) map[string]int64 {
	out := map[string]int64{}
	for _, it := range p.Collections {
		out[it.Store+"."+it.Collection] = it.Count
	}
	return out
}

func wantCounts(t *testing.T, what string, got, want map[string]int64) {
	t.Helper()
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %s = %d, want %d (all: %v)", what, k, got[k], n, got)
		}
	}
}

// TestEnrichedIdentitiesAndTemplates: a person filed by email or by phone
// is reached through the identities enrichment finds (a phone number, a
// provider's customer id, the sha256 of the email) and through a
// polymorphic table handled by templates; the plan counts all of it, the
// access package exports it, and the erasure removes exactly it and
// verifies.
func TestEnrichedIdentitiesAndTemplates(t *testing.T) {
	for _, d := range []string{registry.DriverPostgres, registry.DriverMySQL} {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			e := setupIdentities(t, d)
			want := map[string]int64{"app.users": 1, "app.tickets": 1, "app.analytics": 1, "app.attachments": 2, "billing.charges": 1}

			byPhone, err := e.eng.PlanIdentities(ctx, map[string]string{"phone": "07700 900123"}, "")
			if err != nil {
				t.Fatal(err)
			}
			wantCounts(t, "plan by phone", identityPlanCounts(byPhone), want)
			if byPhone.Total != 6 || byPhone.Identities["stripe_customer"] != 1 || byPhone.Identities["email_sha256"] != 1 {
				t.Errorf("plan by phone: total %d, identities %v", byPhone.Total, byPhone.Identities)
			}
			scoped, err := e.eng.PlanIdentities(ctx, map[string]string{"email": "ann@example.com"}, "globex")
			if err != nil {
				t.Fatal(err)
			}
			if got := identityPlanCounts(scoped); got["app.attachments"] != 1 || len(got) != 1 {
				t.Errorf("plan within globex: %v, want only the globex attachment", got)
			}

			rc := rowCounter{rows: map[string]int64{}}
			e.eng.Exporter = rc
			req := &dsr.Request{ID: "acc-1", Type: dsr.TypeAccess, Identities: map[string]string{"phone": "+447700900123"}}
			if _, err := e.eng.Execute(ctx, req, newJournal()); err != nil {
				t.Fatal(err)
			}
			wantCounts(t, "access rows", rc.rows, want)

			j := newJournal()
			out, err := e.eng.Execute(ctx, erasure("ann@example.com", ""), j)
			if err != nil {
				t.Fatal(err)
			}
			if !out.Verification.Passed {
				t.Fatalf("verification: %+v", out.Verification)
			}
			wantCounts(t, "erased", out.Counts, want)
			if s := j.step("enrich"); s.Status != "done" || s.Count != 4 {
				t.Errorf("enrich step %+v: want done with 4 identities (email, phone, stripe_customer, email_sha256)", s)
			}
			for _, tbl := range []struct {
				s     *sqlstore.Store
				query string
				want  string
			}{
				{e.app, "SELECT id FROM users ORDER BY id", "2"},
				{e.app, "SELECT id FROM tickets ORDER BY id", "2"},
				{e.app, "SELECT id FROM analytics ORDER BY id", "2"},
				{e.app, "SELECT id FROM attachments ORDER BY id", "20,99"},
				{e.billing, "SELECT id FROM charges ORDER BY id", "2"},
			} {
				if got := joinIDs(dumpRows(t, tbl.s, tbl.query)); got != tbl.want {
					t.Errorf("%s: %s, want %s", tbl.query, got, tbl.want)
				}
			}
		})
	}
}

// TestEnrichmentIsFrozen: an erasure resumed after its enrichment was
// journaled uses the identities frozen then, even when the row they were
// read from has changed since.
func TestEnrichmentIsFrozen(t *testing.T) {
	ctx := context.Background()
	e := setupIdentities(t, registry.DriverPostgres)
	j := newJournal()
	j.failAfter = 2 // the enrich step is saved, the freeze step is lost
	if _, err := e.eng.Execute(ctx, erasure("ann@example.com", ""), j); err == nil {
		t.Fatal("the first attempt should fail")
	}
	testkit.Exec(t, e.app, `UPDATE users SET phone = '+447700900999', stripe_id = 'cus_OTHER' WHERE id = 1`)
	j.failAfter = 0
	out, err := e.eng.Execute(ctx, erasure("ann@example.com", ""), j)
	if err != nil {
		t.Fatal(err)
	}
	if out.Counts["app.tickets"] != 1 || out.Counts["billing.charges"] != 1 {
		t.Errorf("counts %v: the resumed erasure should reach the ticket and charge of the frozen phone and customer id", out.Counts)
	}
	if got := joinIDs(dumpRows(t, e.app, "SELECT id FROM tickets ORDER BY id")); got != "2" {
		t.Errorf("tickets left: %s, want 2", got)
	}
}

func joinIDs(rows [][]string) string {
	s := ""
	for i, r := range rows {
		if i > 0 {
			s += ","
		}
		s += r[0][1 : len(r[0])-1]
	}
	return s
}
