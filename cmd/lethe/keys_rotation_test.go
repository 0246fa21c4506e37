package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/demo"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// The keys of the rotation tests: each secret's first and second key.
const (
	rotSubject1 = "rotation-test-subject-key-number-one-of-40"
	rotSubject2 = "rotation-test-subject-key-number-two-of-40"
	rotExport1  = "1111111111111111111111111111111111111111111111111111111111111111"
	rotExport2  = "2222222222222222222222222222222222222222222222222222222222222222"
	rotAudit1   = "3333333333333333333333333333333333333333333333333333333333333333"
	rotAudit2   = "4444444444444444444444444444444444444444444444444444444444444444"
	rotAdmin2   = "rotation-test-second-admin-token"
)

// withEnv returns env without the variables kv names, then kv.
func withEnv(env []string, kv ...string) []string {
	var out []string
	for _, e := range env {
		name, _, _ := strings.Cut(e, "=")
		drop := false
		for _, k := range kv {
			if n, _, _ := strings.Cut(k, "="); n == name {
				drop = true
			}
		}
		if !drop {
			out = append(out, e)
		}
	}
	return append(out, kv...)
}

// runLethe runs a lethe command with env; its output and exit status. A
// command still running after a minute (a lethe serve that should have
// refused to start) is killed.
func runLethe(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run()
	return out.String(), cmd.ProcessState.ExitCode()
}

// sendIdem is s.send with an Idempotency-Key.
func (s *demoServer) sendIdem(t *testing.T, token, path, body, key string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// rotationLines returns the lines of rotate-check's table naming secret
// with role, for the failure messages and the checks.
func rotationLines(out, secret, role string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) > 3 && f[0] == secret && f[2] == role {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestKeyRotationInFlight rotates LETHE_SUBJECT_KEY, LETHE_EXPORT_KEY,
// LETHE_AUDIT_KEY and LETHE_ADMIN_TOKEN together by restarting lethe serve
// with the new keys current and the old ones previous, while an erasure
// runs (waiting on a processor) and after access packages, a legal hold
// and an audit checkpoint were made with the old keys. Nothing is lost:
// the running erasure completes; the package made with the old export key
// still downloads, byte for byte; a retry with the same Idempotency-Key
// finds its request; the hold filed under the old subject key still denies
// an erasure; an erasure filed under the new subject key still deletes
// the package of an access request filed under the old one; the trail and
// its anchor verify across the rotation, and not with the new audit key
// alone until lethe keys migrate re-signs the old checkpoints. lethe keys
// rotate-check names what needs the old keys, exits 1 when one is taken
// out while still needed, and names nothing once the packages expired and
// the checkpoints were re-signed; then the old keys and the old admin
// token are dropped and the old token is refused.
func TestKeyRotationInFlight(t *testing.T) {
	seed := t.TempDir()
	if _, err := demo.Seed(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
	testkit.ForEachState(t, func(t *testing.T, dialect string) {
		h := newHook(t, false)
		stateURL := testkit.StateURL(t, dialect)
		a := newApp(t, seed, h.srv.URL, stateURL)
		exports := "file://" + filepath.Join(a.dir, "exports")
		oldEnv := withEnv(a.env, "LETHE_SUBJECT_KEY="+rotSubject1, "LETHE_EXPORT_KEY="+rotExport1,
			"LETHE_AUDIT_KEY="+rotAudit1, "LETHE_EXPORT_URL="+exports)
		a.env = oldEnv
		old := a.serve(t)

		// Before the rotation: two access packages, a hold, a checkpoint,
		// and an erasure that waits on the processor.
		var grace, ada, hold struct{ ID string }
		code, raw := old.sendIdem(t, old.token, "/v1/requests", `{"type":"access","email":"grace@example.com"}`, "grace-access")
		if code != http.StatusAccepted || json.Unmarshal(raw, &grace) != nil {
			t.Fatalf("file grace's access request: %d %s", code, raw)
		}
		old.call(t, "POST", "/v1/requests", `{"type":"access","email":"ada@example.com"}`, &ada)
		for _, id := range []string{grace.ID, ada.ID} {
			if r := old.waitEnded(t, id, 60*time.Second); r.Status != "completed" {
				t.Fatalf("access request %s ended %s", id, r.Status)
			}
		}
		code, gracePackage := old.send(t, old.token, "GET", "/v1/requests/"+grace.ID+"/export", "")
		if code != http.StatusOK || len(gracePackage) == 0 {
			t.Fatalf("download grace's package before the rotation: %d %s", code, gracePackage)
		}
		if code := old.call(t, "POST", "/v1/holds", `{"email":"katherine@example.com","reason":"case 17"}`, &hold); code != http.StatusCreated {
			t.Fatalf("POST /v1/holds = %d", code)
		}
		running := old.fileErasure(t, "alan@example.com")
		waitHits(t, h, 1)
		if out, code := runLethe(t, oldEnv, "audit", "export", "--out", filepath.Join(t.TempDir(), "trail.jsonl")); code != 0 {
			t.Fatalf("audit export (checkpoints with the old audit key): exit %d: %s", code, out)
		}
		// An entry after the checkpoint: the new server's first checkpoint
		// is of a later head and leaves the old key's in the anchor.
		if code := old.call(t, "POST", "/v1/holds", `{"email":"someone.else@example.com","reason":"case 18"}`, nil); code != http.StatusCreated {
			t.Fatalf("POST /v1/holds = %d", code)
		}
		kill(t, old)

		// The rotation: new keys current, old ones previous.
		rotEnv := withEnv(oldEnv, "LETHE_SUBJECT_KEY="+rotSubject2, "LETHE_SUBJECT_KEY_PREVIOUS="+rotSubject1,
			"LETHE_EXPORT_KEY="+rotExport2, "LETHE_EXPORT_KEY_PREVIOUS="+rotExport1,
			"LETHE_AUDIT_KEY="+rotAudit2, "LETHE_AUDIT_KEY_PREVIOUS="+rotAudit1,
			"LETHE_ADMIN_TOKEN="+rotAdmin2, "LETHE_ADMIN_TOKEN_PREVIOUS="+lifelineAdminToken)
		a.env = rotEnv
		s := a.serve(t)
		for _, tok := range []string{lifelineAdminToken, rotAdmin2} {
			if code, raw := s.send(t, tok, "GET", "/v1/requests", ""); code != http.StatusOK {
				t.Fatalf("during the overlap, admin token %.8s… = %d %s; want 200", tok, code, raw)
			}
		}
		// Console sessions, one signed in with each admin token.
		prevSession, curSession := consoleAdminSignIn(t, s, lifelineAdminToken), consoleAdminSignIn(t, s, rotAdmin2)
		for _, ck := range []string{prevSession, curSession} {
			if code, body := consoleHome(t, s, ck); code != http.StatusOK || !strings.Contains(body, "Sign out") {
				t.Fatalf("during the overlap, a console session of an admin token = %d; want 200 signed in:\n%.400s", code, body)
			}
		}
		s.token = rotAdmin2
		var verified struct {
			OK       bool
			Anchored bool
		}
		if code := s.call(t, "GET", "/v1/audit/verify", "", &verified); code != http.StatusOK || !verified.OK || !verified.Anchored {
			t.Fatalf("GET /v1/audit/verify across the rotation = %d %+v; want an anchored chain that verifies", code, verified)
		}
		code, raw = s.sendIdem(t, s.token, "/v1/requests", `{"type":"access","email":"grace@example.com"}`, "grace-access")
		var again struct{ ID string }
		if json.Unmarshal(raw, &again); code != http.StatusAccepted || again.ID != grace.ID {
			t.Fatalf("retry with the same Idempotency-Key after the rotation: %d %s; want 202 with request %s replayed", code, raw, grace.ID)
		}
		code, got := s.send(t, s.token, "GET", "/v1/requests/"+grace.ID+"/export", "")
		if code != http.StatusOK || !bytes.Equal(got, gracePackage) {
			t.Fatalf("download grace's package after the rotation: %d, %d bytes; want 200 and the %d bytes downloaded before", code, len(got), len(gracePackage))
		}
		out, code := runLethe(t, rotEnv, "keys", "rotate-check")
		for _, secret := range []string{"LETHE_SUBJECT_KEY", "LETHE_EXPORT_KEY", "LETHE_AUDIT_KEY"} {
			if code != 0 || len(rotationLines(out, secret, "previous")) == 0 || !strings.Contains(out, "keep "+secret+"_PREVIOUS") {
				t.Fatalf("rotate-check during the overlap: exit %d; want 0 and rows of %s on the previous key:\n%s", code, secret, out)
			}
		}
		if strings.Contains(out, "@example.com") {
			t.Fatalf("rotate-check prints an address:\n%s", out)
		}
		// The old subject key taken out too early: rotate-check says so.
		out, code = runLethe(t, withEnv(rotEnv, "LETHE_SUBJECT_KEY_PREVIOUS="), "keys", "rotate-check")
		if code != 1 || len(rotationLines(out, "LETHE_SUBJECT_KEY", "missing")) == 0 || !strings.Contains(out, "not configured") {
			t.Fatalf("rotate-check without the old subject key: exit %d; want 1 naming the missing key:\n%s", code, out)
		}
		// The verdict agrees with the rows: a missing key is never one that may be removed.
		if !strings.Contains(out, "put it back in LETHE_SUBJECT_KEY_PREVIOUS") || strings.Contains(out, "LETHE_SUBJECT_KEY_PREVIOUS may be removed") {
			t.Fatalf("rotate-check without the old subject key: the verdict contradicts the missing rows:\n%s", out)
		}
		out, code = runLethe(t, withEnv(rotEnv, "LETHE_EXPORT_KEY_PREVIOUS="), "keys", "rotate-check")
		if code != 1 || len(rotationLines(out, "LETHE_EXPORT_KEY", "missing")) == 0 {
			t.Fatalf("rotate-check without the old export key: exit %d; want 1 naming the missing key:\n%s", code, out)
		}
		if !strings.Contains(out, "put it back in LETHE_EXPORT_KEY_PREVIOUS") || strings.Contains(out, "LETHE_EXPORT_KEY_PREVIOUS may be removed") {
			t.Fatalf("rotate-check without the old export key: the verdict contradicts the missing rows:\n%s", out)
		}

		// The requests in flight and filed now complete as they should.
		h.confirm.Store(true)
		if r := s.waitEnded(t, running, 60*time.Second); r.Status != "completed" || r.Counts["app.users"] != 1 {
			t.Fatalf("the erasure running across the rotation ended %+v; want completed with the user row", r)
		}
		held := s.fileErasure(t, "katherine@example.com")
		if r := s.waitEnded(t, held, 60*time.Second); r.Status != "denied" {
			t.Fatalf("erasure of the person held under the old subject key ended %s; want denied", r.Status)
		}
		erasure := s.fileErasure(t, "ada@example.com")
		if r := s.waitEnded(t, erasure, 60*time.Second); r.Status != "completed" {
			t.Fatalf("erasure of ada after the rotation ended %s", r.Status)
		}
		if code, raw := s.send(t, s.token, "GET", "/v1/requests/"+ada.ID+"/export", ""); code != http.StatusGone {
			t.Fatalf("ada's package, filed under the old subject key, after her erasure: %d (%d bytes); want 410 (deleted with her data)", code, len(raw))
		}

		// The trail verifies across the rotation, not yet with the new
		// audit key alone.
		if out, code := runLethe(t, rotEnv, "audit", "verify"); code != 0 || !strings.Contains(out, "matches") {
			t.Fatalf("audit verify with the current and previous audit keys: exit %d: %s", code, out)
		}
		newOnly := withEnv(rotEnv, "LETHE_SUBJECT_KEY_PREVIOUS=", "LETHE_EXPORT_KEY_PREVIOUS=", "LETHE_AUDIT_KEY_PREVIOUS=", "LETHE_ADMIN_TOKEN_PREVIOUS=")
		if out, code := runLethe(t, newOnly, "audit", "verify"); code != 1 || !strings.Contains(out, "no valid signature") {
			t.Fatalf("audit verify with the new audit key alone before the checkpoints are re-signed: exit %d; want 1:\n%s", code, out)
		}

		// The old packages expire (their TTL passed: moved back here), the
		// checkpoints are re-signed: nothing needs the old keys any more.
		expireExports(t, stateURL)
		if out, code := runLethe(t, rotEnv, "keys", "migrate"); code != 0 || strings.Contains(out, "0 re-signed") {
			t.Fatalf("keys migrate: exit %d: %s", code, out)
		}
		out, code = runLethe(t, rotEnv, "keys", "rotate-check")
		for _, secret := range []string{"LETHE_SUBJECT_KEY", "LETHE_EXPORT_KEY", "LETHE_AUDIT_KEY"} {
			if code != 0 || len(rotationLines(out, secret, "previous")) != 0 || !strings.Contains(out, secret+"_PREVIOUS may be removed") {
				t.Fatalf("rotate-check after expiry and migrate: exit %d; want nothing on a previous %s:\n%s", code, secret, out)
			}
		}
		if out, code := runLethe(t, newOnly, "keys", "rotate-check"); code != 0 || strings.Contains(out, "missing") {
			t.Fatalf("rotate-check with the new keys alone: exit %d:\n%s", code, out)
		}
		if out, code := runLethe(t, newOnly, "audit", "verify"); code != 0 || !strings.Contains(out, "matches") {
			t.Fatalf("audit verify with the new audit key alone after migrate: exit %d: %s", code, out)
		}
		kill(t, s)
		a.env = newOnly
		s = a.serve(t)
		if code, _ := s.send(t, lifelineAdminToken, "GET", "/v1/requests", ""); code != http.StatusUnauthorized {
			t.Fatalf("the old admin token once dropped = %d; want 401", code)
		}
		if code, _ := s.send(t, rotAdmin2, "GET", "/v1/requests", ""); code != http.StatusOK {
			t.Fatalf("the new admin token = %d; want 200", code)
		}
		// The console session opened with the old token ends with it (the
		// token may have been rotated because it leaked); the one opened
		// with the new token goes on across the restart.
		if code, body := consoleHome(t, s, prevSession); strings.Contains(body, "Sign out") || !strings.Contains(body, "no longer accepted") {
			t.Fatalf("a console session of the dropped admin token = %d; want it refused, saying why:\n%.600s", code, body)
		}
		if _, body := consoleHome(t, s, prevSession); strings.Contains(body, "Sign out") {
			t.Fatal("a console session of the dropped admin token, asked again, is signed in")
		}
		if code, body := consoleHome(t, s, curSession); code != http.StatusOK || !strings.Contains(body, "Sign out") {
			t.Fatalf("a console session of the current admin token after the restart = %d; want 200 signed in:\n%.400s", code, body)
		}
	})
}

// consoleAdminSignIn signs in to s's console with the admin token and
// returns the session cookie's value.
func consoleAdminSignIn(t *testing.T, s *demoServer, token string) string {
	t.Helper()
	res, err := http.Get(s.base + "/console/admin/signin")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	var pre *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "lethe_console_csrf" {
			pre = ck
		}
	}
	if m == nil || pre == nil {
		t.Fatalf("the admin sign-in form: %d, no CSRF token:\n%.400s", res.StatusCode, body)
	}
	req, _ := http.NewRequest("POST", s.base+"/console/admin/signin", strings.NewReader(url.Values{"csrf": {string(m[1])}, "token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(pre)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, ck := range res.Cookies() {
		if ck.Name == "lethe_console" && ck.Value != "" {
			return ck.Value
		}
	}
	t.Fatalf("admin sign-in with token %.8s…: %d, no session cookie", token, res.StatusCode)
	return ""
}

// consoleHome opens s's console home with the session cookie.
func consoleHome(t *testing.T, s *demoServer, session string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.base+"/console", nil)
	req.AddCookie(&http.Cookie{Name: "lethe_console", Value: session})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// expireExports moves the expiry of every access package to the past, as
// the passing of their TTL would.
func expireExports(t *testing.T, stateURL string) {
	t.Helper()
	db, err := state.Open(context.Background(), stateURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.SQL.Exec("UPDATE lethe_exports SET expires_at = created_at"); err != nil {
		t.Fatal(err)
	}
}

// TestTenantKeyRotation: a tenant key rotated through the API and through
// lethe keys rotate keeps working until the expiry given, next to its
// replacement, and is refused after it, saying why; an expiry in the past
// is refused. The overlap given is an hour, so that no load on the machine
// can end it early; its end is then moved to the past in the state store,
// as the passing of the hour would.
func TestTenantKeyRotation(t *testing.T) {
	seed := t.TempDir()
	if _, err := demo.Seed(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
	testkit.ForEachState(t, func(t *testing.T, dialect string) {
		stateURL := testkit.StateURL(t, dialect)
		a := newApp(t, seed, newHook(t, true).srv.URL, stateURL)
		if out, code := runLethe(t, a.env, "tenants", "create", "--slug", "north", "--name", "North"); code != 0 {
			t.Fatalf("tenants create: exit %d: %s", code, out)
		}
		s := a.serve(t)
		old := s.tenantKey(t, "north")
		oldID := strings.Split(old, "_")[1]
		ok := func(token string) int {
			code, _ := s.send(t, token, "GET", "/v1/tenants/north", "")
			return code
		}
		if code, raw := s.send(t, s.token, "POST", "/v1/tenants/north/keys/"+oldID+"/rotate",
			fmt.Sprintf(`{"old_valid_until":%q}`, time.Now().Add(-time.Minute).UTC().Format(time.RFC3339))); code != http.StatusUnprocessableEntity {
			t.Fatalf("rotate with an expiry in the past = %d %s; want 422", code, raw)
		}
		if code, _ := s.send(t, old, "POST", "/v1/tenants/north/keys/"+oldID+"/rotate", `{"old_valid_until":"2030-01-01T00:00:00Z"}`); code != http.StatusForbidden {
			t.Fatalf("a tenant key rotating itself = %d; want 403 (admin only)", code)
		}
		until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		code, raw := s.send(t, s.token, "POST", "/v1/tenants/north/keys/"+oldID+"/rotate", fmt.Sprintf(`{"old_valid_until":%q}`, until.Format(time.RFC3339)))
		var fresh struct{ ID, Token string }
		if json.Unmarshal(raw, &fresh); code != http.StatusCreated || fresh.Token == "" || fresh.ID == oldID {
			t.Fatalf("rotate the key = %d %s; want 201 with a new token", code, raw)
		}
		// The CLI rotates the new key in turn, with a longer overlap.
		out, code := runLethe(t, a.env, "keys", "rotate", "--tenant", "north", "--id", fresh.ID,
			"--old-valid-until", time.Now().Add(2*time.Hour).UTC().Format(time.RFC3339))
		third := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
		if code != 0 || !strings.HasPrefix(third, "lethe_") {
			t.Fatalf("keys rotate: exit %d: %s", code, out)
		}
		for _, tok := range []string{old, fresh.Token, third} {
			if code := ok(tok); code != http.StatusOK {
				t.Fatalf("during the overlap a key = %d; want 200", code)
			}
		}
		expireTenantKey(t, stateURL, oldID)
		code, raw = s.send(t, old, "GET", "/v1/tenants/north", "")
		if code != http.StatusUnauthorized || !strings.Contains(string(raw), "rotated and expired") {
			t.Fatalf("the old key after its overlap = %d %s; want 401 saying it expired", code, raw)
		}
		for _, tok := range []string{fresh.Token, third} {
			if code := ok(tok); code != http.StatusOK {
				t.Fatalf("a replacement after the first overlap = %d; want 200", code)
			}
		}
		if out, code := runLethe(t, withEnv(a.env, "LETHE_EXPORT_KEY="), "keys", "rotate-check"); code != 0 || !strings.Contains(out, "tenant keys: 1 rotated and still valid until their expiry, 1 rotated and past it") {
			t.Fatalf("rotate-check on tenant keys: exit %d:\n%s", code, out)
		}
	})
}

// expireTenantKey moves the end of a rotated tenant key's overlap to a
// second ago, as the passing of its old_valid_until would.
func expireTenantKey(t *testing.T, stateURL, id string) {
	t.Helper()
	db, err := state.Open(context.Background(), stateURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res := db.Gorm.Table("lethe_tenant_keys").Where("id = ? AND expires_at IS NOT NULL", id).Update("expires_at", time.Now().Add(-time.Second).UTC())
	if res.Error != nil || res.RowsAffected != 1 {
		t.Fatalf("expire tenant key %s: %v, %d rows updated; want 1", id, res.Error, res.RowsAffected)
	}
}

// TestServeRefusesBadPreviousKeys: a key of a *_PREVIOUS list that cannot
// be a key stops lethe serve at once, exit 2, naming the variable and the
// key's place in the list, never the key.
func TestServeRefusesBadPreviousKeys(t *testing.T) {
	env := withEnv(withoutLetheEnv(), "LETHE_DATABASE_URL=sqlite://"+filepath.Join(t.TempDir(), "state.db"),
		"LETHE_SUBJECT_KEY="+rotSubject2, "LETHE_EXPORT_KEY="+rotExport2, "LETHE_AUDIT_KEY="+rotAudit2)
	for _, c := range []struct{ kv, want string }{
		{"LETHE_SUBJECT_KEY_PREVIOUS=" + rotSubject1 + ",too-short-secret", "LETHE_SUBJECT_KEY_PREVIOUS (or --subject-key-previous): key 2 of the list"},
		{"LETHE_EXPORT_KEY_PREVIOUS=not-hex-nor-32-bytes", "LETHE_EXPORT_KEY_PREVIOUS (or --export-key-previous): key 1 of the list"},
		{"LETHE_AUDIT_KEY_PREVIOUS=" + rotAudit1 + ",abcd", "LETHE_AUDIT_KEY_PREVIOUS (or --audit-key-previous): key 2 of the list"},
	} {
		out, code := runLethe(t, withEnv(env, c.kv), "serve", "--addr", "127.0.0.1:0")
		secret := strings.SplitN(strings.SplitN(c.kv, "=", 2)[1], ",", 2)
		if code != 2 || !strings.Contains(out, c.want) || strings.Contains(out, secret[len(secret)-1]) {
			t.Errorf("serve with %s: exit %d, output:\n%s\nwant exit 2 saying %q without the key", strings.SplitN(c.kv, "=", 2)[0], code, out, c.want)
		}
	}
}
