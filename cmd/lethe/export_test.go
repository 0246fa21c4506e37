package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// send calls the demo with token (none when empty) and returns the status
// and body.
func (s *demoServer) send(t *testing.T, token, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// waitDone polls a request until it leaves pending and running.
func (s *demoServer) waitDone(t *testing.T, token, id string) string {
	t.Helper()
	var r struct{ Status string }
	testkit.Eventually(t, 30*time.Second, "request "+id+" done", func() error {
		_, raw := s.send(t, token, "GET", "/v1/requests/"+id, "")
		json.Unmarshal(raw, &r)
		if r.Status == "pending" || r.Status == "running" {
			return fmt.Errorf("still %s", r.Status)
		}
		return nil
	})
	return r.Status
}

func (s *demoServer) tenantKey(t *testing.T, tenant string) string {
	t.Helper()
	code, raw := s.send(t, s.token, "POST", "/v1/tenants/"+tenant+"/keys", "")
	var k struct{ Token string }
	if json.Unmarshal(raw, &k); code != http.StatusCreated && code != http.StatusOK || k.Token == "" {
		t.Fatalf("issue a key for %s: %d %s", tenant, code, raw)
	}
	return k.Token
}

// uploadHolding returns the demo upload whose content holds text, or "".
func uploadHolding(t *testing.T, dir, text string) string {
	t.Helper()
	var found string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(text)) {
				found = path
			}
		}
		return nil
	})
	return found
}

// TestDemoExport runs the README tour's access and erasure steps on the real
// binary: the career-coach studio downloads Grace's package with its own
// key (another studio's key gets 404), the ZIP opens and its manifest
// hashes match; erasing Ada removes her CV from the uploads folder.
func TestDemoExport(t *testing.T) {
	s := startDemo(t)
	coach, calm := s.tenantKey(t, "career-coach"), s.tenantKey(t, "calm-mind")
	if code, raw := s.send(t, "", "GET", "/readyz", ""); code != http.StatusOK ||
		!bytes.Contains(raw, []byte(`"store uploads":"ok"`)) || !bytes.Contains(raw, []byte(`"exports":"ok"`)) {
		t.Errorf("/readyz = %d %s; want the blob store and the export bucket checked", code, raw)
	}

	code, raw := s.send(t, coach, "POST", "/v1/requests", `{"type":"access","email":"grace@example.com"}`)
	var created struct{ ID string }
	if json.Unmarshal(raw, &created); code != http.StatusAccepted || created.ID == "" {
		t.Fatalf("file access: %d %s", code, raw)
	}
	path := "/v1/requests/" + created.ID + "/export"
	if status := s.waitDone(t, coach, created.ID); status != "completed" {
		_, raw := s.send(t, coach, "GET", "/v1/requests/"+created.ID, "")
		t.Fatalf("access request ended %s: %s\n%s", status, raw, s.stderr.String())
	}

	if code, _ := s.send(t, calm, "GET", path, ""); code != http.StatusNotFound {
		t.Errorf("another studio's key: %d, want 404", code)
	}
	if code, _ := s.send(t, "", "GET", path, ""); code != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", code)
	}
	if code, _ := s.send(t, coach, "GET", "/v1/requests/nope/export", ""); code != http.StatusNotFound {
		t.Errorf("unknown request: %d, want 404", code)
	}
	code, zipped := s.send(t, coach, "GET", path, "")
	if code != http.StatusOK {
		t.Fatalf("GET export with the studio's key: %d %s", code, zipped)
	}
	if code, admin := s.send(t, s.token, "GET", path, ""); code != http.StatusOK || len(admin) == 0 {
		t.Errorf("GET export as admin: %d", code)
	}
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		t.Fatalf("the download is not a ZIP: %v", err)
	}
	entries := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		entries[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	var man struct {
		Entries []struct {
			Name, SHA256 string
		}
	}
	if err := json.Unmarshal(entries["manifest.json"], &man); err != nil || len(man.Entries) == 0 {
		t.Fatalf("manifest: %v", err)
	}
	for _, e := range man.Entries {
		sum := sha256.Sum256(entries[e.Name])
		if hex.EncodeToString(sum[:]) != e.SHA256 {
			t.Errorf("%s: hash does not match the manifest", e.Name)
		}
	}
	var job bool
	for name, b := range entries {
		job = job || (strings.HasPrefix(name, "files/uploads/jobs/") && bytes.Contains(b, []byte("Compiler Engineering Lead")))
		for _, other := range []string{"ada@example.com", "Katherine", "Alan Turing", "marathon"} {
			if bytes.Contains(b, []byte(other)) {
				t.Errorf("%s holds someone else's data (%s)", name, other)
			}
		}
	}
	if !job || !bytes.Contains(entries["data/app/messages.json"], []byte("compiler engineering lead")) {
		t.Errorf("Grace's upload or messages are missing: %v", keys(entries))
	}
	checkDemoReport(t, string(entries["report.html"]))

	var erasure struct{ ID string }
	s.call(t, "POST", "/v1/requests", `{"type":"erasure","email":"ada@example.com"}`, &erasure)
	if code, _ := s.send(t, s.token, "GET", "/v1/requests/"+erasure.ID+"/export", ""); code != http.StatusConflict {
		t.Errorf("export of an erasure request: %d, want 409", code)
	}
	uploads := filepath.Join(s.dir, "demo", "uploads")
	if uploadHolding(t, uploads, "Ada Lovelace") == "" {
		t.Fatal("Ada's CV is not in the demo uploads to begin with")
	}
	if status := s.waitDone(t, s.token, erasure.ID); status != "completed" {
		t.Fatalf("erasure ended %s", status)
	}
	if f := uploadHolding(t, uploads, "Ada Lovelace"); f != "" {
		t.Errorf("Ada's CV is still on disk: %s", f)
	}
	if uploadHolding(t, uploads, "Compiler Engineering Lead") == "" {
		t.Error("Grace's upload went with Ada's")
	}
	files, _ := os.ReadDir(filepath.Join(s.dir, "demo", "exports"))
	var names []string
	for _, f := range files {
		if f.Name() != "audit" { // the audit checkpoints' anchor, by default in the export bucket
			names = append(names, f.Name())
		}
	}
	if len(names) != 1 {
		t.Errorf("exports folder holds %v, want Grace's one package", names)
	}
	// The completed erasure was checkpointed at once, signed with the
	// demo's audit key: by the end observer that runs just after the
	// request is recorded completed, so it is waited for.
	testkit.Eventually(t, 10*time.Second, "an audit checkpoint after the erasure", func() error {
		if cps, _ := os.ReadDir(filepath.Join(s.dir, "demo", "exports", "audit", "checkpoints")); len(cps) == 0 {
			return fmt.Errorf("none written")
		}
		return nil
	})
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// checkDemoReport: Grace's report.html names the studio and its
// controller, shows her chat as a conversation (her messages as "You",
// the studio's answers by its name, in order), links her upload into
// files/, explains in plain words, and mentions no folder the package
// lacks.
func checkDemoReport(t *testing.T, report string) {
	t.Helper()
	for _, want := range []string{
		"Your personal data at Career Coach", "Career Coach Ltd", "privacy@career-coach.example.com",
		`<h3>Interview prep: compiler engineering lead</h3>`, "<strong>You</strong>", "<strong>Career Coach</strong>",
		`Compiler_Lead_Job_Description.txt</a>`, `href="files/uploads/jobs/`,
		"Run the studios and their chats", "Your conversations", "Deleted 30 days after it was recorded.",
		"The language-model vendor that answers chat messages", "/privacy/career-coach",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	first, second := strings.Index(report, "Team growth."), strings.Index(report, "Prepare two stories")
	if first < 0 || second < first {
		t.Errorf("the messages are not in order (%d, %d)", first, second)
	}
	for _, absent := range []string{"redis/", "app.chats", "sqlite", "⟦"} {
		if strings.Contains(report, absent) {
			t.Errorf("report.html mentions %q", absent)
		}
	}
}
