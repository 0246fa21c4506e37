package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// phoneRegistry reaches a person filed by phone: app.users by its phone
// column, then through enrichment the tickets of that phone number and the
// charges of the user's payment provider id, and attachments by template.
const phoneRegistry = `
stores:
  app: {kind: sql, driver: %s, dsn_env: PHONE_APP_DSN}
identities:
  phone: {normalize: e164, region: GB}
  stripe_customer: {}
enrich:
  - {from: app.users, find: [email, stripe_customer]}
collections:
  app.users:
    identity: {email: email, phone: phone, stripe_customer: stripe_id}
    erasure: delete
  app.tickets:
    identity: {phone: caller}
    erasure: delete
  app.charges:
    identity: {stripe_customer: customer}
    erasure: delete
  app.attachments:
    access: SELECT id, name FROM attachments WHERE owner_type = 'user' AND owner_id = :app.users.id
    count: SELECT count(*) FROM attachments WHERE owner_type = 'user' AND owner_id = :app.users.id
    verify: SELECT id FROM attachments WHERE owner_type = 'user' AND owner_id = :app.users.id
    erase: DELETE FROM attachments WHERE owner_type = 'user' AND owner_id = :app.users.id
`

// TestRequestFiledByPhone files a plan and an erasure by phone number
// through lethe serve's HTTP API: the plan counts what enrichment and the
// template reach, the erasure removes exactly the person's rows and is
// verified, and the phone number appears neither in the log nor in the
// request once it ended.
func TestRequestFiledByPhone(t *testing.T) {
	for _, driver := range []string{registry.DriverPostgres, registry.DriverMySQL} {
		t.Run(driver, func(t *testing.T) {
			appDSN := testkit.DSN(t, driver)
			seedPhoneApp(t, driver, appDSN)
			dir := t.TempDir()
			path := filepath.Join(dir, "lethe.yaml")
			if err := os.WriteFile(path, []byte(fmt.Sprintf(phoneRegistry, driver)), 0o600); err != nil {
				t.Fatal(err)
			}
			s := &demoServer{token: "phone-admin-token", stderr: &testkit.Buffer{}}
			s.cmd = exec.Command(binary, "serve", "--addr", "127.0.0.1:0")
			s.cmd.Env = append(withoutLetheEnv(), "LETHE_DATABASE_URL=sqlite://"+filepath.Join(dir, "state.db"), "LETHE_CONFIG="+path,
				"LETHE_SUBJECT_KEY=phone-test-subject-key-of-32-characters!", "LETHE_ADMIN_TOKEN="+s.token, "PHONE_APP_DSN="+appDSN)
			s.cmd.Stderr = s.stderr
			if err := s.cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() })
			for deadline := time.Now().Add(60 * time.Second); s.base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if m := addrLine.FindStringSubmatch(s.stderr.String()); m != nil {
					s.base = "http://" + m[1]
				}
			}
			if s.base == "" {
				t.Fatalf("lethe serve did not start; log:\n%s", s.stderr.String())
			}

			var plan struct {
				Total      int64
				Identities map[string]int
			}
			body := `{"identities":{"phone":"07700 900123"}}`
			if code := s.call(t, "POST", "/v1/plan", body, &plan); code != http.StatusOK || plan.Total != 5 || plan.Identities["stripe_customer"] != 1 {
				t.Fatalf("POST /v1/plan = %d, %+v; want 5 rows (user, ticket, charge, two attachments) and the enriched customer id", code, plan)
			}
			var bad struct{ Error struct{ Message string } }
			if code := s.call(t, "POST", "/v1/requests", `{"type":"erasure","identities":{"phone":"ring 31337 please"}}`, &bad); code != http.StatusUnprocessableEntity ||
				strings.Contains(bad.Error.Message, "31337") {
				t.Fatalf("a bad phone = %d %q; want 422 without the value", code, bad.Error.Message)
			}
			// A legal hold on Ann's email covers an erasure filed by her phone.
			var hold struct{ ID string }
			if code := s.call(t, "POST", "/v1/holds", `{"email":"ann@example.com","reason":"claim 7"}`, &hold); code != http.StatusCreated {
				t.Fatalf("POST /v1/holds = %d", code)
			}
			var r request
			if code := s.call(t, "POST", "/v1/requests", `{"type":"erasure","identities":{"phone":"+44 7700 900123"}}`, &r); code != http.StatusAccepted {
				t.Fatalf("POST /v1/requests = %d", code)
			}
			if got := s.waitEnded(t, r.ID, 60*time.Second); got.Status != "denied" {
				t.Fatalf("an erasure by phone under a hold on the email: %+v", got)
			}
			if code := s.call(t, "DELETE", "/v1/holds/"+hold.ID, "", nil); code != http.StatusOK {
				t.Fatalf("DELETE /v1/holds = %d", code)
			}
			if code := s.call(t, "POST", "/v1/requests", `{"type":"erasure","identities":{"phone":"+44 7700 900123"}}`, &r); code != http.StatusAccepted {
				t.Fatalf("POST /v1/requests = %d", code)
			}
			got := s.waitEnded(t, r.ID, 60*time.Second)
			if got.Status != "completed" || got.Counts["app.tickets"] != 1 || got.Counts["app.charges"] != 1 || got.Counts["app.attachments"] != 2 {
				t.Fatalf("request %+v; log:\n%s", got, s.stderr.String())
			}
			left := map[string]string{}
			st, err := sqlstore.Open("app", driver, appDSN)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for _, tbl := range []string{"users", "tickets", "charges", "attachments"} {
				var ids []string
				if err := st.DB().Raw("SELECT CAST(id AS CHAR(20)) FROM " + tbl + " ORDER BY id").Scan(&ids).Error; err != nil {
					t.Fatal(err)
				}
				for i := range ids {
					ids[i] = strings.TrimSpace(ids[i]) // Postgres pads a CHAR
				}
				left[tbl] = strings.Join(ids, ",")
			}
			if want := map[string]string{"users": "2", "tickets": "2", "charges": "2", "attachments": "20,99"}; fmt.Sprint(left) != fmt.Sprint(want) {
				t.Errorf("rows left %v, want %v", left, want)
			}
			for _, secret := range []string{"7700900123", "7700 900123", "cus_ANN"} {
				if strings.Contains(s.stderr.String(), secret) {
					t.Errorf("the log holds %q", secret)
				}
			}
			out, _, code := runCLI(t, map[string]string{"PHONE_APP_DSN": appDSN}, "plan", "--config", path, "--identity", "phone=07700 900456")
			if code != 0 || !strings.Contains(out, "identities stripe_customer: 1") || !strings.Contains(out, "total 4 ") {
				t.Errorf("lethe plan --identity phone=… of Bob: exit %d:\n%s", code, out)
			}
			var audit struct{ Items []map[string]any }
			s.call(t, "GET", "/v1/audit", "", &audit)
			if raw := fmt.Sprint(audit.Items); len(audit.Items) == 0 || strings.Contains(raw, "7700900123") || strings.Contains(raw, "cus_ANN") {
				t.Errorf("audit (%d entries) holds an identity: %s", len(audit.Items), raw)
			}
		})
	}
}

// seedPhoneApp creates Ann (user 1, whose phone files the request) and Bob
// (user 2) with a ticket and a charge each; Ann owns two attachments, Bob
// one, and a team with id 1 one.
func seedPhoneApp(t *testing.T, driver, dsn string) {
	t.Helper()
	st, err := sqlstore.Open("app", driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, q := range []string{
		`CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL, phone VARCHAR(32), stripe_id VARCHAR(64))`,
		`CREATE TABLE tickets (id BIGINT PRIMARY KEY, caller VARCHAR(32) NOT NULL)`,
		`CREATE TABLE charges (id BIGINT PRIMARY KEY, customer VARCHAR(64) NOT NULL)`,
		`CREATE TABLE attachments (id BIGINT PRIMARY KEY, owner_type VARCHAR(16) NOT NULL, owner_id BIGINT NOT NULL, name VARCHAR(255))`,
		`INSERT INTO users VALUES (1, 'ann@example.com', '+447700900123', 'cus_ANN'), (2, 'bob@example.com', '+447700900456', 'cus_BOB')`,
		`INSERT INTO tickets VALUES (1, '+447700900123'), (2, '+447700900456')`,
		`INSERT INTO charges VALUES (1, 'cus_ANN'), (2, 'cus_BOB')`,
		`INSERT INTO attachments VALUES (10, 'user', 1, 'cv.pdf'), (11, 'user', 1, 'photo.png'), (20, 'user', 2, 'cv.pdf'), (99, 'team', 1, 'logo.png')`,
	} {
		if err := st.DB().Exec(q).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
