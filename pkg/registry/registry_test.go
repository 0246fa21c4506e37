package registry_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

const valid = `
stores:
  app:     {kind: sql, driver: postgres, dsn_env: APP_DATABASE_URL}
  billing: {kind: sql, driver: mysql, dsn_env: BILLING_DSN}
  uploads: {kind: blob, url: "file:///var/lib/studio/uploads"}
  cache:   {kind: redis, addr_env: APP_REDIS_ADDR, keys: ["session:{app.users.id}:*", "ratelimit:{email}"]}
  llm:     {kind: processor, webhook: "https://llm.example/erasure", secret_env: LLM_HOOK_SECRET}
purposes:
  service: Run the studio and its chats
  invoicing: Invoices, kept ten years by tax law
collections:
  app.users:
    identity: {email: email}
    categories: {email: user.contact.email, name: user.name}
    erasure: delete
  app.chats:
    tenant: studio_id
    references: {user_id: users.id}
    responses: true
    retention: {window: 30d, timestamp: created_at}
    erasure: delete
  app.messages:
    references: {chat_id: app.chats.id}
    json: {body: ["author.email", "parts[*].text"]}
    erasure: {anonymize: {body.author.email: hmac, "body.parts[*].text": redact}}
  app.uploads:
    references: {chat_id: chats.id}
    files: {storage_key: uploads}
    retention: {window: 12h, timestamp: created_at}
    erasure: delete
  billing.customers:
    references: {user_ref: app.users.id}
    purpose: invoicing
    erasure: {anonymize: {email: hmac, name: null, tag: "fixed:erased"}}
  billing.invoices:
    primary_key: [customer_id, number]
    references: {customer_id: customers.id}
    erasure: {keep: "legal obligation, GDPR Art. 17(3)(b)"}
retention: {schedule: "0 3 * * *", batch_size: 2000}
`

func TestParseValid(t *testing.T) {
	r, err := registry.Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, c := range r.ErasureOrder() {
		order = append(order, c.Key)
	}
	pos := map[string]int{}
	for i, k := range order {
		pos[k] = i
	}
	for _, c := range r.Collections {
		for _, ref := range c.References {
			if pos[c.Key] > pos[ref.Target] {
				t.Errorf("erasure order %v puts %s after its parent %s", order, c.Key, ref.Target)
			}
		}
	}
	inv := r.Collections["billing.invoices"]
	if strings.Join(inv.PrimaryKey, ",") != "customer_id,number" || inv.Erasure.Action != registry.ActionKeep {
		t.Errorf("invoices = %+v", inv)
	}
	msgs := r.Collections["app.messages"]
	if len(msgs.Erasure.Fields) != 2 || msgs.Erasure.Fields[0].Path == nil || msgs.References[0].Target != "app.chats" {
		t.Errorf("messages = %+v", msgs)
	}
	cust := r.Collections["billing.customers"]
	if cust.Erasure.Fields[1].Strategy != registry.StrategyNull || cust.Erasure.Fields[2].Fixed != "erased" {
		t.Errorf("customers fields = %+v", cust.Erasure.Fields)
	}
	if ret := r.Collections["app.uploads"].Retention; ret.Window != 12*time.Hour || ret.Action != registry.ActionDelete {
		t.Errorf("uploads retention = %+v", ret)
	}

	// The canonical form parses to the same version; layout does not matter.
	again, err := registry.Parse(r.Marshal())
	if err != nil {
		t.Fatalf("canonical form does not parse: %v\n%s", err, r.Marshal())
	}
	if again.Version() != r.Version() || len(r.Version()) != 64 {
		t.Errorf("version changed through Marshal: %s → %s", r.Version(), again.Version())
	}
	reordered := strings.Replace(valid, "    erasure: delete\n  app.chats:", "    erasure: \"delete\"   # comment\n  app.chats:", 1)
	if r3, err := registry.Parse([]byte(reordered)); err != nil || r3.Version() != r.Version() {
		t.Errorf("layout changed the version: %v", err)
	}
	changed, _ := registry.Parse([]byte(strings.Replace(valid, "window: 30d", "window: 31d", 1)))
	if changed.Version() == r.Version() {
		t.Error("a changed window kept the version")
	}
}

func TestParseProblems(t *testing.T) {
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"unknown key", "dsn_env: BILLING_DSN", "dns_env: BILLING_DSN", `lethe.yaml:4: stores.billing.dns_env: unknown key "dns_env"`},
		{"unknown driver", "driver: mysql", "driver: oracle", `stores.billing.driver: unknown driver "oracle"`},
		{"dsn env missing", ", dsn_env: BILLING_DSN", "", `stores.billing.dsn_env: required for a sql store`},
		{"dsn in file", "dsn_env: BILLING_DSN", "dsn_env: mysql://root@db", `is not an environment variable name`},
		{"unknown store", "  billing.customers:", "  bill.customers:", `collections.bill.customers: unknown store "bill"`},
		{"unknown collection", "{chat_id: app.chats.id}", "{chat_id: app.chat.id}",
			`lethe.yaml:23: collections.app.messages.references.chat_id: unknown collection "app.chat"`},
		{"missing column", "{customer_id: customers.id}", "{customer_id: customers.uid}",
			`collections.billing.invoices.references.customer_id: billing.customers has no column "uid"`},
		{"unreachable", "    identity: {email: email}\n", "",
			`collections.app.users: no identity reaches this collection`},
		{"cycle", "    identity: {email: email}\n", "    identity: {email: email}\n    references: {boss: chats.id}\n",
			`reference cycle app.chats → app.users → app.chats`},
		{"bad erasure", "erasure: {keep: \"legal", "erasure: {kept: \"legal", `erasure: unknown key "kept"`},
		{"bad strategy", "name: null,", "name: scramble,", `collections.billing.customers.erasure.anonymize.name: unknown strategy "scramble"`},
		{"json path not declared", "body.author.email: hmac", "meta.author.email: hmac", `"meta" is not a JSON column`},
		{"anonymise reference", "tag: \"fixed:erased\"", "user_ref: redact", `"user_ref" is a reference`},
		{"bad window", "window: 30d", "window: 30 days", `collections.app.chats.retention.window: window "30 days"`},
		{"no timestamp", "{window: 12h, timestamp: created_at}", "{window: 12h}", `collections.app.uploads.retention.timestamp: required`},
		{"bad blob", "files: {storage_key: uploads}", "files: {storage_key: cache}", `"cache" is not a blob store`},
		{"bad purpose", "purpose: invoicing", "purpose: taxes", `collections.billing.customers.purpose: unknown purpose "taxes"`},
		{"bad redis key", "session:{app.users.id}:*", "session:{app.user.id}:*", `stores.cache.keys.0: {app.user.id} names no collection`},
		{"bad path", `"parts[*].text"`, `"parts[x].text"`, `collections.app.messages.json.body.1: path "parts[x].text"`},
		{"identity kept", "    identity: {email: email}\n    categories: {email: user.contact.email, name: user.name}\n    erasure: delete",
			"    identity: {email: email}\n    erasure: {anonymize: {name: null}}", `the identity column "email" keeps the email`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(valid, tc.old, tc.new, 1)
			if src == valid {
				t.Fatalf("replacement %q not found", tc.old)
			}
			_, err := registry.Parse([]byte(src))
			var ve *registry.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a *ValidationError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err =\n%v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestCheckEnv(t *testing.T) {
	r, err := registry.Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"APP_DATABASE_URL": "postgres://x", "APP_REDIS_ADDR": "x:1", "LLM_HOOK_SECRET": "s"}
	err = r.CheckEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err == nil || !strings.Contains(err.Error(), "stores.billing.dsn_env: environment variable BILLING_DSN is not set") {
		t.Errorf("err = %v", err)
	}
	env["BILLING_DSN"] = "root@tcp(x)/y"
	if err := r.CheckEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Errorf("all set: %v", err)
	}
}

func TestQuoteIdent(t *testing.T) {
	for _, tc := range []struct{ driver, in, want string }{
		{registry.DriverPostgres, "users", `"users"`},
		{registry.DriverPostgres, `we"ird`, `"we""ird"`},
		{registry.DriverSQLite, "public.users", `"public"."users"`},
		{registry.DriverMySQL, "users", "`users`"},
		{registry.DriverMySQL, "we`ird", "`we``ird`"},
	} {
		if got := registry.QuoteIdent(tc.driver, tc.in); got != tc.want {
			t.Errorf("QuoteIdent(%s, %s) = %s, want %s", tc.driver, tc.in, got, tc.want)
		}
	}
}

func TestParseWindow(t *testing.T) {
	for _, tc := range []struct {
		in    string
		want  time.Duration
		never bool
		bad   bool
	}{
		{"30d", 30 * 24 * time.Hour, false, false}, {"12h", 12 * time.Hour, false, false},
		{"2w", 14 * 24 * time.Hour, false, false}, {"never", 0, true, false},
		{"0d", 0, false, true}, {"30", 0, false, true}, {"d", 0, false, true}, {"-3d", 0, false, true},
	} {
		d, never, err := registry.ParseWindow(tc.in)
		if (err != nil) != tc.bad || d != tc.want || never != tc.never {
			t.Errorf("ParseWindow(%q) = %v %v %v", tc.in, d, never, err)
		}
	}
}

func TestStoreOptions(t *testing.T) {
	src := strings.NewReplacer(
		`url: "file:///var/lib/studio/uploads"}`, `url: "file:///var/lib/studio/uploads", prefix: cv}`,
		`secret_env: LLM_HOOK_SECRET}`, `secret_env: LLM_HOOK_SECRET, deadline: 90s, best_effort: true}`,
	).Replace(valid)
	r, err := registry.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Stores["uploads"].Prefix; got != "cv/" {
		t.Errorf("prefix = %q, want cv/", got)
	}
	if llm := r.Stores["llm"]; llm.Deadline != 90*time.Second || !llm.BestEffort {
		t.Errorf("llm = %+v", llm)
	}
	again, err := registry.Parse(r.Marshal())
	if err != nil || again.Version() != r.Version() || again.Stores["llm"].Deadline != 90*time.Second || again.Stores["uploads"].Prefix != "cv/" {
		t.Errorf("canonical form lost the options: %v\n%s", err, r.Marshal())
	}
	plain, _ := registry.Parse([]byte(valid))
	if plain.Stores["llm"].Deadline != registry.DefaultDeadline || plain.Stores["llm"].BestEffort {
		t.Errorf("defaults = %+v", plain.Stores["llm"])
	}

	for _, tc := range []struct{ name, old, new, want string }{
		{"bad deadline", `secret_env: LLM_HOOK_SECRET}`, `secret_env: LLM_HOOK_SECRET, deadline: soon}`,
			`stores.llm.deadline: "soon" is not a positive duration`},
		{"long deadline", `secret_env: LLM_HOOK_SECRET}`, `secret_env: LLM_HOOK_SECRET, deadline: 48h}`,
			`stores.llm.deadline: "48h" is longer than 24h0m0s`},
		{"deadline on blob", `uploads"}`, `uploads", deadline: 1m}`, `stores.uploads.deadline: not used by a blob store`},
		{"best effort on sql", `dsn_env: BILLING_DSN}`, `dsn_env: BILLING_DSN, best_effort: true}`, `stores.billing.best_effort: not used by a sql store`},
		{"prefix on redis", `addr_env: APP_REDIS_ADDR,`, `addr_env: APP_REDIS_ADDR, prefix: x,`, `stores.cache.prefix: not used by a redis store`},
		{"absolute prefix", `uploads"}`, `uploads", prefix: /etc}`, `stores.uploads.prefix: "/etc" is not a relative folder`},
		{"dotdot prefix", `uploads"}`, `uploads", prefix: "cv/../x"}`, `stores.uploads.prefix: "cv/../x" has an empty, '.' or '..' segment`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(valid, tc.old, tc.new, 1)
			if src == valid {
				t.Fatalf("replacement %q not found", tc.old)
			}
			_, err := registry.Parse([]byte(src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err =\n%v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}
