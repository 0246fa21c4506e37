package engine_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/export"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// accessPackage runs an access request for email with a real export
// service (state in SQLite, packages in a folder) and returns the ZIP's
// bytes, decrypted, and the folder holding the encrypted package.
func accessPackage(t *testing.T, eng *engine.Engine, id, email, tenant string) (*dsr.Outcome, []byte, string) {
	t.Helper()
	ctx := context.Background()
	db, err := state.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dir := filepath.Join(t.TempDir(), "exports")
	bucket, err := export.OpenBucket(ctx, "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bucket.Close() })
	key := bytes.Repeat([]byte{7}, export.KeySize)
	eng.Exporter = &export.Service{Bucket: bucket, Key: key, Records: &state.ExportStore{DB: db}, SpoolDir: t.TempDir()}
	out, err := eng.Execute(ctx, &dsr.Request{ID: id, Type: dsr.TypeAccess, Email: email, Tenant: tenant}, newJournal())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := (&state.ExportStore{DB: db}).GetExport(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(rec.ExpiresAt); d < 6*24*time.Hour || d > 7*24*time.Hour+time.Minute {
		t.Errorf("package expires in %s, want 7 days", d)
	}
	raw, err := os.ReadFile(filepath.Join(dir, rec.Object))
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, rec.Object)); err != nil {
		t.Fatal(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("the stored package is %v, want 0600", fi.Mode().Perm())
	}
	r, err := export.Decrypt(bytes.NewReader(raw), key, id)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	if _, err := export.Decrypt(bytes.NewReader(raw), key, "another-request"); err == nil {
		if _, err := io.ReadAll(must(export.Decrypt(bytes.NewReader(raw), key, "another-request"))); err == nil {
			t.Error("the package decrypts as another request's")
		}
	}
	return out, plain, dir
}

// zipEntries returns the files of a ZIP by name.
func zipEntries(b []byte) (map[string][]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	entries := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		entries[f.Name] = b
	}
	return entries, nil
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestAccessPackage: Ada's package holds every row, file and key of hers
// and nothing of anyone else's, opens with archive/zip, its manifest
// hashes match, and its report explains purposes, recipients and
// retention. The stored package is encrypted.
func TestAccessPackage(t *testing.T) {
	e := setupSide(t, "deadline: 700ms, best_effort: true")
	out, plain, dir := accessPackage(t, e.eng, "req-access-ada", ada.email, "")

	entries, err := zipEntries(plain)
	if err != nil {
		t.Fatalf("the package is not a ZIP: %v", err)
	}
	var man export.Manifest
	if err := json.Unmarshal(entries["manifest.json"], &man); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if len(man.Entries) != len(entries)-1 {
		t.Errorf("manifest lists %d entries, the ZIP has %d besides it", len(man.Entries), len(entries)-1)
	}
	for _, me := range man.Entries {
		b, ok := entries[me.Name]
		sum := sha256.Sum256(b)
		if !ok || hex.EncodeToString(sum[:]) != me.SHA256 || int64(len(b)) != me.Size {
			t.Errorf("manifest entry %s does not match the ZIP (present %v)", me.Name, ok)
		}
	}
	for _, name := range []string{"data/app/users.json", "data/app/users.csv", "data/app/chats.json", "data/app/messages.json",
		"data/app/messages.csv", "data/app/uploads.json", "files/uploads/cv/1.txt", "redis/cache.json", "report.html"} {
		if _, ok := entries[name]; !ok {
			t.Errorf("the package lacks %s", name)
		}
	}

	// Every entry holds Ada's data and nobody else's, checked by content.
	for name, b := range entries {
		for _, other := range []string{grace.marker, tricky.marker, decoy.marker, grace.email, "OUTSIDE-MARK"} {
			if bytes.Contains(b, []byte(other)) {
				t.Errorf("%s holds someone else's data (%s)", name, other)
			}
		}
	}
	if string(entries["files/uploads/cv/1.txt"]) != ada.marker+" CV" {
		t.Errorf("Ada's file = %q", entries["files/uploads/cv/1.txt"])
	}
	var msgs []map[string]any
	if err := json.Unmarshal(entries["data/app/messages.json"], &msgs); err != nil || len(msgs) != 3 {
		t.Fatalf("messages.json: %v (%d rows)", err, len(msgs))
	}
	body, _ := msgs[0]["body"].(map[string]any) // a JSON column is embedded as a document
	if parts, _ := body["parts"].([]any); len(parts) != 1 || !strings.Contains(parts[0].(map[string]any)["text"].(string), ada.marker+` says, "hi"`) {
		t.Errorf("message body = %#v", msgs[0]["body"])
	}
	recs, err := csv.NewReader(bytes.NewReader(entries["data/app/messages.csv"])).ReadAll()
	if err != nil || len(recs) != 4 || strings.Join(recs[0], ",") != "id,chat_id,body,created_at" || !strings.Contains(recs[1][2], "newline") {
		t.Errorf("messages.csv = %v, %v", recs, err)
	}
	var users []map[string]any
	if err := json.Unmarshal(entries["data/app/users.json"], &users); err != nil || len(users) != 1 || users[0]["email"] != ada.email {
		t.Errorf("users.json = %s", entries["data/app/users.json"])
	}
	var keys []struct {
		Key   string `json:"key"`
		Type  string `json:"type"`
		Value any    `json:"value"`
	}
	if err := json.Unmarshal(entries["redis/cache.json"], &keys); err != nil || len(keys) != 4 {
		t.Fatalf("redis/cache.json = %s (%v)", entries["redis/cache.json"], err)
	}
	types := map[string]string{}
	for _, k := range keys {
		types[strings.TrimPrefix(k.Key, e.pre)] = k.Type
	}
	if types["session:1:web"] != "hash" || types["session:1:app"] != "string" || types["ratelimit:"+ada.email] != "string" || types["prefs:"+ada.email+":topics"] != "set" {
		t.Errorf("redis keys = %v", types)
	}
	if len(man.Refused) != 1 || man.Refused[0].Key != "../outside.txt" || out.Details["files_refused"] != int64(1) {
		t.Errorf("refused = %+v, details %v", man.Refused, out.Details)
	}
	if man.Counts["app.messages"] != 3 || man.Counts["uploads.files"] != 1 || man.Counts["cache.keys"] != 4 {
		t.Errorf("manifest counts = %v", man.Counts)
	}
	if out.Counts["app.messages"] != 3 || out.Counts["cache.keys"] != 4 || out.Details["export"] == nil {
		t.Errorf("outcome = %v %v", out.Counts, out.Details)
	}

	report := string(entries["report.html"])
	for _, want := range []string{"Run the studios and their chats", "Coach you through your job search", // purposes
		"The language-model vendor that answers chat messages", "A service that works on this data for the studio", // recipients
		"Deleted 30 days after", "Deleted 2 weeks after", "Kept while you use the service", // retention windows
		"Email address", "Your conversations", `<a href="files/uploads/cv/1.txt">`} {
		if !strings.Contains(report, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}

	// At rest the package is ciphertext: no marker, email or ZIP header.
	files, _ := os.ReadDir(dir)
	for _, f := range files {
		raw, _ := os.ReadFile(filepath.Join(dir, f.Name()))
		for _, plainText := range []string{ada.marker, ada.email, "PK\x03\x04", "manifest.json"} {
			if bytes.Contains(raw, []byte(plainText)) {
				t.Errorf("the stored %s holds %q in the clear", f.Name(), plainText)
			}
		}
	}
}

// TestAccessReportEscapes: values from the rows are escaped in report.html
// and a subject whose email holds markup cannot inject it.
func TestAccessReportEscapes(t *testing.T) {
	e := setupSide(t, "deadline: 700ms, best_effort: true")
	testkit.Exec(t, e.app, `INSERT INTO users (id, email, name) VALUES (?, ?, ?)`, 5, `"<script>x</script>"@example.com`, "S")
	_, plain, _ := accessPackage(t, e.eng, "req-s", `"<script>x</script>"@example.com`, "")
	zr, err := zip.NewReader(bytes.NewReader(plain), int64(len(plain)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == "report.html" {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			if bytes.Contains(b, []byte("<script>x")) || !bytes.Contains(b, []byte("&lt;script&gt;")) {
				t.Errorf("report.html does not escape the email: %s", b)
			}
			return
		}
	}
	t.Fatal("no report.html")
}
