package demo_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/glebarez/go-sqlite"

	"github.com/lethe-privacy/lethe/pkg/demo"
)

var seedTime = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)

// wantCounts are the demo's row counts; the README tour and the demo registry
// rely on these tables.
var wantCounts = map[string]int{
	"studios":    2,
	"users":      4,
	"chats":      7,
	"messages":   34,
	"uploads":    3,
	"newsletter": 4,
	"demo_meta":  1,
}

func seed(t *testing.T, dir string) *demo.Demo {
	t.Helper()
	d, err := demo.SeedAt(context.Background(), dir, seedTime)
	if err != nil {
		t.Fatalf("SeedAt(%s): %v", dir, err)
	}
	return d
}

func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func tableCounts(t *testing.T, db *sql.DB) map[string]int {
	t.Helper()
	got := map[string]int{}
	for table := range wantCounts {
		got[table] = count(t, db, `SELECT count(*) FROM `+table)
	}
	return got
}

// files lists the regular files under dir as slash paths relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		out = append(out, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSeedAtCreatesTablesAndUsers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := seed(t, dir)

	if want := filepath.Join(dir, "app.db"); d.DBPath != want {
		t.Errorf("DBPath = %q, want %q", d.DBPath, want)
	}
	if want := filepath.Join(dir, "uploads"); d.UploadsDir != want {
		t.Errorf("UploadsDir = %q, want %q", d.UploadsDir, want)
	}
	db := openDB(t, d.DBPath)
	if got := tableCounts(t, db); !reflect.DeepEqual(got, wantCounts) {
		t.Errorf("row counts = %v, want %v", got, wantCounts)
	}

	wantUsers := []demo.User{
		{ID: 1, Email: "ada@example.com", Name: "Ada Lovelace", Studio: "career-coach"},
		{ID: 2, Email: "grace@example.com", Name: "Grace Hopper", Studio: "career-coach"},
		{ID: 3, Email: "alan@example.com", Name: "Alan Turing", Studio: "calm-mind"},
		{ID: 4, Email: "katherine@example.com", Name: "Katherine Johnson", Studio: "calm-mind"},
	}
	if !reflect.DeepEqual(d.Users, wantUsers) {
		t.Errorf("Users = %+v, want %+v", d.Users, wantUsers)
	}

	studios := map[string]string{}
	rows, err := db.Query(`SELECT u.email, group_concat(DISTINCT c.studio_id)
		FROM users u JOIN chats c ON c.user_id = u.id GROUP BY u.email`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var email, list string
		if err := rows.Scan(&email, &list); err != nil {
			t.Fatal(err)
		}
		studios[email] = list
	}
	for email, want := range map[string]int{
		"ada@example.com": 2, "grace@example.com": 1, "alan@example.com": 1, "katherine@example.com": 2,
	} {
		if got := len(strings.Split(studios[email], ",")); got != want {
			t.Errorf("%s chats in studios %q, want %d studios", email, studios[email], want)
		}
	}
}

func TestSeedAtUploadsStayUnderUploadsDir(t *testing.T) {
	t.Parallel()
	d := seed(t, t.TempDir())
	db := openDB(t, d.DBPath)

	rows, err := db.Query(`SELECT storage_key, filename FROM uploads ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var key, name string
		if err := rows.Scan(&key, &name); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
		if !filepath.IsLocal(key) || strings.Contains(key, `\`) || !strings.HasSuffix(key, ".txt") {
			t.Errorf("storage_key %q is not a relative .txt path inside uploads/", key)
			continue
		}
		content, err := os.ReadFile(filepath.Join(d.UploadsDir, filepath.FromSlash(key)))
		if err != nil {
			t.Errorf("upload %s (%s): %v", key, name, err)
			continue
		}
		if len(content) < 200 {
			t.Errorf("upload %s (%s) has %d bytes, want a plausible document", key, name, len(content))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	onDisk := files(t, d.UploadsDir)
	slices.Sort(onDisk)
	slices.Sort(keys)
	if !slices.Equal(onDisk, keys) {
		t.Errorf("files in uploads/ = %v, want exactly the storage keys %v", onDisk, keys)
	}
}

func TestSeedAtMessagesAlternateWithJSONBodies(t *testing.T) {
	t.Parallel()
	d := seed(t, t.TempDir())
	db := openDB(t, d.DBPath)

	rows, err := db.Query(`SELECT m.chat_id, m.role, m.body, u.email
		FROM messages m JOIN chats c ON c.id = m.chat_id JOIN users u ON u.id = c.user_id
		ORDER BY m.chat_id, m.created_at, m.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	perChat := map[int64]int{}
	var ownEmail, phone int
	for rows.Next() {
		var chatID int64
		var role, body, email string
		if err := rows.Scan(&chatID, &role, &body, &email); err != nil {
			t.Fatal(err)
		}
		wantRole, wantAuthor := "user", email
		if perChat[chatID]%2 == 1 {
			wantRole, wantAuthor = "assistant", "assistant@studio.invalid"
		}
		perChat[chatID]++
		var doc struct {
			Author struct{ Email, Name string } `json:"author"`
			Parts  []struct{ Text string }      `json:"parts"`
		}
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Errorf("chat %d: body %q is not JSON: %v", chatID, body, err)
			continue
		}
		if role != wantRole || doc.Author.Email != wantAuthor || doc.Author.Name == "" {
			t.Errorf("chat %d message %d: role %q author %+v, want role %q author %s",
				chatID, perChat[chatID], role, doc.Author, wantRole, wantAuthor)
		}
		if len(doc.Parts) != 1 || len(doc.Parts[0].Text) < 20 {
			t.Errorf("chat %d: parts = %+v, want one text part", chatID, doc.Parts)
			continue
		}
		text := doc.Parts[0].Text
		if role == "user" && strings.Contains(text, email) {
			ownEmail++
		}
		if strings.Contains(text, "+44 20 7946 0958") || strings.Contains(text, "555 0142") ||
			strings.Contains(text, "07700 900123") {
			phone++
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for chatID, n := range perChat {
		if n < 3 || n > 6 {
			t.Errorf("chat %d has %d messages, want 3 to 6", chatID, n)
		}
	}
	if ownEmail < 2 || phone < 2 {
		t.Errorf("%d messages carry the user's own email and %d a phone number, want at least 2 each", ownEmail, phone)
	}
}

func TestSeedAtSpreadsTimestampsAcrossRetentionWindows(t *testing.T) {
	t.Parallel()
	d := seed(t, t.TempDir())
	db := openDB(t, d.DBPath)

	// The cut-offs are bound as time.Time, as retention code binds them.
	days := func(n int) time.Time { return seedTime.Add(-time.Duration(n) * 24 * time.Hour) }
	for _, c := range []struct {
		name  string
		query string
		arg   time.Time
		want  int
	}{
		{"chats older than 30 days", `SELECT count(*) FROM chats WHERE created_at < ?`, days(30), 3},
		{"uploads older than 7 days", `SELECT count(*) FROM uploads WHERE created_at < ?`, days(7), 2},
		{"messages older than 30 days", `SELECT count(*) FROM messages WHERE created_at < ?`, days(30), 14},
		{"rows older than 60 days", `SELECT (SELECT count(*) FROM users WHERE created_at < ?1)
			+ (SELECT count(*) FROM chats WHERE created_at < ?1)
			+ (SELECT count(*) FROM messages WHERE created_at < ?1)
			+ (SELECT count(*) FROM uploads WHERE created_at < ?1)
			+ (SELECT count(*) FROM newsletter WHERE subscribed_at < ?1)`, days(60), 0},
		{"rows after the seed time", `SELECT (SELECT count(*) FROM users WHERE created_at > ?1)
			+ (SELECT count(*) FROM chats WHERE created_at > ?1)
			+ (SELECT count(*) FROM messages WHERE created_at > ?1)
			+ (SELECT count(*) FROM uploads WHERE created_at > ?1)
			+ (SELECT count(*) FROM newsletter WHERE subscribed_at > ?1)`, seedTime, 0},
	} {
		if got := count(t, db, c.query, c.arg); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	// SQLite's own date functions read the stored format too.
	if got := count(t, db, `SELECT count(*) FROM chats WHERE julianday(created_at) IS NULL`); got != 0 {
		t.Errorf("%d chats have a created_at SQLite cannot parse", got)
	}
}

func TestSeedIsIdempotent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := seed(t, dir)
	db := openDB(t, first.DBPath)
	before := tableCounts(t, db)
	var marker string
	if err := db.QueryRow(`SELECT value FROM demo_meta WHERE key = 'seeded_at'`).Scan(&marker); err != nil {
		t.Fatal(err)
	}
	filesBefore := files(t, first.UploadsDir)

	second, err := demo.Seed(context.Background(), dir)
	if err != nil {
		t.Fatalf("second Seed: %v", err)
	}
	if !reflect.DeepEqual(second, first) {
		t.Errorf("second Seed = %+v, want %+v", second, first)
	}
	if after := tableCounts(t, db); !reflect.DeepEqual(after, before) {
		t.Errorf("row counts after second Seed = %v, want %v", after, before)
	}
	var markerAfter string
	if err := db.QueryRow(`SELECT value FROM demo_meta WHERE key = 'seeded_at'`).Scan(&markerAfter); err != nil {
		t.Fatal(err)
	}
	if markerAfter != marker {
		t.Errorf("seeded_at changed from %q to %q", marker, markerAfter)
	}
	if filesAfter := files(t, first.UploadsDir); !slices.Equal(filesAfter, filesBefore) {
		t.Errorf("uploads after second Seed = %v, want %v", filesAfter, filesBefore)
	}
}

func TestSeedConcurrentCallsSeedOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	results := make([]*demo.Demo, 4)
	errs := make([]error, len(results))
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i], errs[i] = demo.SeedAt(context.Background(), dir, seedTime) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if !reflect.DeepEqual(results[i], results[0]) {
			t.Errorf("call %d = %+v, want %+v", i, results[i], results[0])
		}
	}
	db := openDB(t, results[0].DBPath)
	if got := tableCounts(t, db); !reflect.DeepEqual(got, wantCounts) {
		t.Errorf("row counts = %v, want %v", got, wantCounts)
	}
	if got := len(files(t, results[0].UploadsDir)); got != wantCounts["uploads"] {
		t.Errorf("%d files in uploads/, want %d", got, wantCounts["uploads"])
	}
}

func TestSeedAtFailureLeavesNothingSeeded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A file where the job-description folder goes: the seed fails after it
	// has written the first CV.
	blocker := filepath.Join(dir, "uploads", "jobs")
	if err := os.MkdirAll(filepath.Dir(blocker), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.SeedAt(context.Background(), dir, seedTime); err == nil {
		t.Fatal("SeedAt with uploads/jobs a file: nil error, want one")
	}
	db := openDB(t, filepath.Join(dir, "app.db"))
	if got := count(t, db, `SELECT count(*) FROM sqlite_master`); got != 0 {
		t.Errorf("failed seed left %d schema objects", got)
	}
	if got := files(t, filepath.Join(dir, "uploads")); !slices.Equal(got, []string{"jobs"}) {
		t.Errorf("failed seed left files %v, want only the blocker", got)
	}

	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	d := seed(t, dir)
	if got := tableCounts(t, openDB(t, d.DBPath)); !reflect.DeepEqual(got, wantCounts) {
		t.Errorf("row counts after retry = %v, want %v", got, wantCounts)
	}
}

func TestSeedAtRejectsForeignDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	_, err = demo.SeedAt(context.Background(), dir, seedTime)
	if err == nil || !strings.Contains(err.Error(), "users") {
		t.Fatalf("SeedAt over another app's users table: error %v, want one naming users", err)
	}
}
