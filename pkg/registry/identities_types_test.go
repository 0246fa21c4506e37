package registry_test

import (
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

const identitiesBase = `
stores: {app: {kind: sql, driver: postgres, dsn_env: APP_DSN}}
identities:
  phone: {normalize: e164, region: GB}
  stripe_customer: {}
  email_sha256: {derive: sha256}
enrich:
  - {from: app.users, find: [phone, stripe_customer]}
collections:
  app.users:
    identity: {email: email, phone: phone, stripe_customer: stripe_id}
    erasure: delete
  app.tickets:
    identity: {phone: caller}
    erasure: delete
`

// TestIdentityTypes: the identities section, the identity columns and the
// enrich lookups parse, survive the canonical form, and normalise values
// as declared; broken ones are refused with their path.
func TestIdentityTypes(t *testing.T) {
	reg, err := registry.Parse([]byte(identitiesBase))
	if err != nil {
		t.Fatal(err)
	}
	again, err := registry.Parse(reg.Marshal())
	if err != nil || again.Version() != reg.Version() {
		t.Fatalf("canonical form: %v, versions %s / %s", err, again.Version(), reg.Version())
	}
	if got := reg.Collections["app.tickets"].IdentityColumns("phone"); len(got) != 1 || got[0] != "caller" {
		t.Errorf("tickets' phone columns: %v", got)
	}
	for _, tc := range []struct{ kind, raw, want string }{
		{"phone", "07700 900123", "+447700900123"},
		{"phone", "+33 1 23 45 67 89", "+33123456789"},
		{"stripe_customer", "  cus_42 ", "cus_42"},
		{"email", " Ann@Example.COM", "Ann@example.com"},
	} {
		if got, err := reg.NormalizeIdentity(tc.kind, tc.raw); err != nil || got != tc.want {
			t.Errorf("NormalizeIdentity(%s, %q) = %q, %v; want %q", tc.kind, tc.raw, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ kind, raw string }{{"phone", "call 555 1234 now"}, {"fax", "1"}, {"email_sha256", "zq9"}, {"user_id", " "}} {
		if _, err := reg.NormalizeIdentity(tc.kind, tc.raw); err == nil || strings.Contains(err.Error(), tc.raw) && tc.raw != " " {
			t.Errorf("NormalizeIdentity(%s, %q): %v; want an error without the value", tc.kind, tc.raw, err)
		}
	}
	if d := reg.Derived([]string{"Ann@Example.com"})["email_sha256"]; len(d) != 1 || len(d[0]) != 64 {
		t.Errorf("derived sha256: %v", d)
	}

	for _, tc := range []struct{ name, from, to, want string }{
		{"unknown type in a collection", "identity: {phone: caller}", "identity: {fax: caller}", `collections.app.tickets.identity.fax: unknown identity type "fax"`},
		{"lookup of a column not declared", "find: [phone, stripe_customer]", "find: [phone, user_id]", "enrich.0.find.1: app.users declares no user_id column"},
		{"lookup from nowhere", "from: app.users,", "from: app.people,", `enrich.0.from: unknown collection "app.people"`},
		{"bad region", "region: GB", "region: XX", `identities.phone.region: "XX" is not an ISO 3166 region`},
		{"phone kept by anonymisation", "    identity: {phone: caller}\n    erasure: delete", "    identity: {phone: caller}\n    erasure: {anonymize: {body: redact}}", `the identity column "caller" keeps the phone`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := registry.Parse([]byte(strings.Replace(identitiesBase, tc.from, tc.to, 1)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// TestTemplatesCanonical: a registry with template collections (erased
// and kept) survives its canonical form, which a request snapshots.
func TestTemplatesCanonical(t *testing.T) {
	src := identitiesBase + `  app.attachments:
    tenant: studio_id
    access: SELECT id FROM attachments WHERE owner_id = :app.users.id AND studio_id = COALESCE(:tenant, studio_id);
    count: SELECT count(*) FROM attachments WHERE owner_id = :app.users.id AND studio_id = COALESCE(:tenant, studio_id)
    verify: SELECT id FROM attachments WHERE owner_id = :app.users.id AND studio_id = COALESCE(:tenant, studio_id)
    erase:
      - UPDATE attachments SET owner_id = 0 WHERE owner_id = :app.users.id AND studio_id = COALESCE(:tenant, studio_id)
      - CALL forget_owner(:email, :tenant)
  app.ledger:
    categories: {amount: finance.amount}
    access: SELECT * FROM ledger WHERE customer = :stripe_customer
    count: SELECT count(*) FROM ledger WHERE customer = :stripe_customer
    erasure: {keep: "tax law"}
`
	reg, err := registry.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	again, err := registry.Parse(reg.Marshal())
	if err != nil || again.Version() != reg.Version() {
		t.Fatalf("canonical form: %v\n%s", err, reg.Marshal())
	}
	ts := again.Collections["app.attachments"].Templates
	if len(ts.Erase) != 2 || ts.Access.SQL[len(ts.Access.SQL)-1] == ';' {
		t.Errorf("templates after the round trip: %+v", ts)
	}
	if got := ts.Erase[1].Bind(func(int) string { return "?" }); got != "CALL forget_owner(?, ?)" {
		t.Errorf("bound: %q", got)
	}
	if l := again.Collections["app.ledger"]; l.Templates == nil || l.Erasure.Action != registry.ActionKeep {
		t.Errorf("kept template collection: %+v", l)
	}
}
