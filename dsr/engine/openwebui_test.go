package engine_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/blobstore"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/export"
	"github.com/lethe-privacy/lethe/pkg/redact"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testdb"
	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

const day = 24 * time.Hour

// webuiTables are the example's tables with the column naming each row's
// person.
var webuiTables = map[string]string{
	"user": "id", "auth": "id", "chat": "user_id", "chatidtag": "user_id", "tag": "user_id", "folder": "user_id",
	"file": "user_id", "memory": "user_id", "channel": "user_id", "message": "user_id",
	"message_reaction": "user_id", "channel_member": "user_id",
}

// openWebUI builds Open WebUI's schema from the example's testdata on
// driver, seeds it as the application writes it, and returns the store, the
// example registry checked against it, and the uploads folder the
// registry's uploads store points at (holding each person's upload).
func openWebUI(t *testing.T, driver string, now time.Time) (*sqlstore.Store, *registry.Registry, string) {
	t.Helper()
	ddl, err := os.ReadFile("../../deploy/registries/testdata/open-webui." + driver + ".sql")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(ddl), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			lines = append(lines, l)
		}
	}
	var stmts []string
	for _, s := range strings.Split(strings.Join(lines, "\n"), ";") {
		if strings.TrimSpace(s) != "" {
			stmts = append(stmts, s)
		}
	}
	app := testkit.OpenStore(t, "webui", driver, stmts...)
	uploads := t.TempDir()
	ago := func(d time.Duration) int64 { return now.Add(-d).Unix() }
	for i, u := range []string{"u1", "u2", "u3"} {
		email := map[string]string{"u1": "alice@example.com", "u2": "bob@example.com", "u3": "carol@example.com"}[u]
		testkit.Exec(t, app, `INSERT INTO "user" (id, name, email, role, profile_image_url, last_active_at, updated_at, created_at, settings, info)
			VALUES (?, ?, ?, 'user', '/user.png', ?, ?, ?, '{"ui":{}}', NULL)`, u, strings.Split(email, "@")[0], email, ago(0), ago(0), ago(500*day))
		testkit.Exec(t, app, `INSERT INTO auth (id, email, password, active) VALUES (?, ?, '$2b$12$hash', TRUE)`, u, email)
		for j, age := range []time.Duration{day, 100 * day, 400 * day} {
			id := fmt.Sprintf("%s-chat%d", u, j)
			doc := fmt.Sprintf(`{"title":"chat %d","history":{"currentId":"m2","messages":{"m1":{"id":"m1","role":"user","content":"I am %[2]s, looking for a new job"},"m2":{"id":"m2","parentId":"m1","role":"assistant","content":"Tell me more"}}},`+
				`"messages":[{"id":"m1","role":"user","content":"I am %[2]s, looking for a new job"},{"id":"m2","parentId":"m1","role":"assistant","content":"Tell me more"}]}`, j, email)
			testkit.Exec(t, app, `INSERT INTO chat (id, user_id, title, chat, created_at, updated_at, archived, pinned, meta)
				VALUES (?, ?, ?, ?, ?, ?, FALSE, FALSE, '{"tags":["career"]}')`, id, u, "Career chat", doc, ago(age), ago(age))
		}
		testkit.Exec(t, app, `INSERT INTO memory (id, user_id, content, created_at, updated_at) VALUES (?, ?, 'Works as a nurse', ?, ?)`,
			u+"-mem", u, ago(3*day), ago(3*day))
		testkit.Exec(t, app, `INSERT INTO file (id, user_id, filename, meta, created_at, updated_at, path) VALUES (?, ?, 'cv.pdf', '{"name":"cv.pdf"}', ?, ?, ?)`,
			u+"-file", u, ago(time.Duration(i*200)*day), ago(0), "/app/backend/data/uploads/"+u+"-file_cv.pdf")
		if err := os.WriteFile(filepath.Join(uploads, u+"-file_cv.pdf"), []byte(email+" CV"), 0o600); err != nil {
			t.Fatal(err)
		}
		testkit.Exec(t, app, `INSERT INTO chatidtag (id, tag_name, chat_id, user_id, timestamp) VALUES (?, 'career', ?, ?, ?)`, u+"-cit", u+"-chat0", u, ago(day))
	}
	// Two people's "career" tag and "Work" folder share their ids: the tables are keyed (id, user_id).
	testkit.Exec(t, app, `INSERT INTO tag (id, name, user_id, meta) VALUES ('career', 'career', 'u1', '{}'), ('career', 'career', 'u2', '{}'), ('travel', 'travel', 'u1', '{}')`)
	testkit.Exec(t, app, `INSERT INTO folder (id, user_id, name, is_expanded, created_at, updated_at) VALUES ('work', 'u1', 'Work', FALSE, ?, ?), ('work', 'u2', 'Work', TRUE, ?, ?)`,
		ago(day), ago(day), ago(day), ago(day))
	// Alice's channel, where Bob talks and reacts too.
	ns := now.UnixNano()
	testkit.Exec(t, app, `INSERT INTO channel (id, user_id, name, type, created_at, updated_at) VALUES ('c1', 'u1', 'jobs', NULL, ?, ?)`, ns, ns)
	testkit.Exec(t, app, `INSERT INTO channel_member (id, channel_id, user_id, created_at) VALUES ('cm1', 'c1', 'u1', ?), ('cm2', 'c1', 'u2', ?)`, ns, ns)
	testkit.Exec(t, app, `INSERT INTO message (id, user_id, channel_id, content, created_at, updated_at) VALUES ('msg1', 'u1', 'c1', 'hello', ?, ?), ('msg2', 'u2', 'c1', 'hi alice', ?, ?)`, ns, ns, ns, ns)
	testkit.Exec(t, app, `INSERT INTO message_reaction (id, user_id, message_id, name, created_at) VALUES ('r1', 'u2', 'msg1', 'thumbsup', ?), ('r2', 'u1', 'msg2', 'heart', ?)`, ns, ns)

	raw, err := os.ReadFile("../../deploy/registries/open-webui.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(raw), "driver: postgres", "driver: "+driver, 1)
	src = strings.Replace(src, `url: "file:///app/backend/data/uploads"`, `url: "file://`+uploads+`"`, 1)
	if !strings.Contains(src, uploads) {
		t.Fatal("the example's uploads store has no url to point at the test's folder")
	}
	reg := testkit.Registry(t, src)
	warnings, err := reg.CheckLive(context.Background(), sqlstore.Stores{"webui": app}.Schemas())
	if err != nil {
		t.Fatal(err)
	}
	// Open WebUI indexes none of the columns Lethe looks people up by; any
	// other warning (a JSON path matching nothing in the sampled chats) is
	// the example's mistake.
	for _, w := range warnings {
		if !strings.Contains(w.Message, "has no index") {
			t.Errorf("config check warns: %v", w)
		}
	}
	for _, key := range []string{"webui.tag", "webui.folder"} {
		if got := reg.Collections[key].PrimaryKey; !slices.Equal(got, []string{"id", "user_id"}) {
			t.Fatalf("%s key = %v, want (id, user_id)", key, got)
		}
	}
	return app, reg, uploads
}

// webuiRows returns every row of the example's tables (or of only those
// named) selected by where (with %s standing for the table's person
// column), as text, by table.
func webuiRows(t *testing.T, app *sqlstore.Store, where string, only ...string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for table, col := range webuiTables {
		if len(only) > 0 && !slices.Contains(only, table) {
			continue
		}
		q := fmt.Sprintf(`SELECT * FROM %s WHERE %s`, registry.QuoteIdent(app.DB().Dialector.Name(), table),
			strings.ReplaceAll(where, "%s", col))
		for _, r := range dumpRows(t, app, q) {
			out[table] = append(out[table], strings.Join(r, "|"))
		}
		slices.Sort(out[table])
	}
	return out
}

// TestOpenWebUIExample runs the example registry against Open WebUI's own
// schema: plan, access and erasure of one person (her uploads deleted from
// the folder the rows' absolute paths name, her shared channel detached),
// then a retention sweep (old chats and files purged, chats past 90 days
// redacted inside their JSON maps and arrays), each leaving every other row
// and file as it was.
func TestOpenWebUIExample(t *testing.T) {
	for _, d := range []string{registry.DriverPostgres, registry.DriverSQLite} {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			now := time.Now().UTC().Truncate(time.Second)
			app, reg, uploads := openWebUI(t, d, now)
			blobs, err := blobstore.OpenRegistry(ctx, reg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { blobs.Close() })
			hasher := dsr.NewSubjectHasher([]byte("test-key"))
			eng := engine.New(reg, map[string]connector.Store{"webui": app}, hasher)
			eng.Blobs = blobs.Engine()

			plan, err := eng.Plan(ctx, "Alice@Example.com", "")
			if err != nil {
				t.Fatal(err)
			}
			counts := map[string]int64{}
			for _, it := range plan.Collections {
				counts[it.Store+"."+it.Collection] = it.Count
			}
			want := map[string]int64{"webui.user": 1, "webui.auth": 1, "webui.chat": 3, "webui.chatidtag": 1, "webui.tag": 2,
				"webui.folder": 1, "webui.file": 1, "webui.memory": 1, "webui.channel": 1, "webui.message": 1,
				"webui.message_reaction": 1, "webui.channel_member": 1}
			if !maps.Equal(counts, want) {
				t.Errorf("plan = %v, want %v", counts, want)
			}
			if len(plan.Files) != 1 || plan.Files[0].Delete != 1 || plan.Files[0].Refused != 0 || plan.Files[0].Stops {
				t.Errorf("plan files = %+v, want Alice's one upload to delete", plan.Files)
			}

			rc := rowCounter{rows: map[string]int64{}}
			fr := &fileReader{}
			var report string
			eng.Exporter = exporters{reportReader{&report}, rc, fr}
			if _, err := eng.Execute(ctx, &dsr.Request{ID: "access", Type: dsr.TypeAccess, Email: "alice@example.com"}, newJournal()); err != nil {
				t.Fatal(err)
			}
			// report.html shows each chat as a conversation from the
			// messages inside its document, and links the upload.
			for _, want := range []string{"<h3>Career chat</h3>", "<strong>You</strong>", "I am alice@example.com, looking for a new job",
				"Tell me more", `href="files/uploads/u1-file_cv.pdf"`, "Your account"} {
				if !strings.Contains(report, want) {
					t.Errorf("report.html lacks %q", want)
				}
			}
			if !maps.Equal(rc.rows, want) {
				t.Errorf("access read %v, want %v", rc.rows, want)
			}
			if !slices.Equal(fr.read, []string{"u1-file_cv.pdf=alice@example.com CV"}) || len(fr.refused) != 0 {
				t.Errorf("access read files %v, refused %v; want Alice's upload", fr.read, fr.refused)
			}

			others := webuiRows(t, app, "%s <> 'u1' OR %s IS NULL")
			// Alice's channel stays for Bob, without her id.
			for _, r := range webuiRows(t, app, "%s = 'u1'", "channel")["channel"] {
				f := strings.Split(r, "|")
				f[1] = "NULL"
				others["channel"] = append(others["channel"], strings.Join(f, "|"))
			}
			out, err := eng.Execute(ctx, erasure("alice@example.com", ""), newJournal())
			if err != nil {
				t.Fatal(err)
			}
			if !out.Verification.Passed {
				t.Fatalf("verification: %+v", out.Verification)
			}
			if out.Counts["uploads.files"] != 1 || out.Counts["webui.channel"] != 1 {
				t.Errorf("counts = %v, want 1 upload deleted and 1 channel detached", out.Counts)
			}
			after := webuiRows(t, app, "1 = 1")
			for table := range webuiTables {
				if !slices.Equal(after[table], others[table]) {
					t.Errorf("%s after erasure:\n%v\nwant everyone else's rows unchanged:\n%v", table, after[table], others[table])
				}
			}
			if len(after["channel"]) != 1 || len(after["tag"]) != 1 || len(after["folder"]) != 1 {
				t.Errorf("channel %v, tags %v, folders %v; want the channel and Bob's career tag and Work folder", after["channel"], after["tag"], after["folder"])
			}
			if got := uploadsIn(t, uploads); !slices.Equal(got, []string{"u2-file_cv.pdf", "u3-file_cv.pdf"}) {
				t.Errorf("uploads after erasure = %v, want Bob's and Carol's", got)
			}

			// The sweep purges chats and files older than 365 days (Bob's
			// and Carol's 400-day chats, Carol's file and its upload) and
			// redacts the chats older than 90 days (their 100-day chats);
			// nothing else changes.
			cutoff, redactBefore := now.Add(-365*day).Unix(), now.Add(-90*day).Unix()
			kept := webuiRows(t, app, "1 = 1")
			kept["chat"] = webuiRows(t, app, fmt.Sprintf("created_at >= %d", redactBefore), "chat")["chat"]
			kept["file"] = webuiRows(t, app, fmt.Sprintf("created_at >= %d", cutoff), "file")["file"]
			redactCols := `SELECT id, user_id, title, created_at, updated_at, share_id, archived, pinned, folder_id FROM chat WHERE created_at < %d AND created_at >= %d ORDER BY id`
			redactedBefore := dumpRows(t, app, fmt.Sprintf(redactCols, redactBefore, cutoff))
			sw := sweeperFor(t, reg, map[string]retention.Store{"webui": app}, eng, now)
			sw.Files = retention.DeleteFileFunc(func(ctx context.Context, store, key string) error {
				_, err := blobs[store].Delete(ctx, key)
				return err
			})
			if sw.Redactors, err = redact.NewKeyring([]byte("a redaction secret of 32 bytes..")); err != nil {
				t.Fatal(err)
			}
			run, err := sw.Run(ctx, retention.Options{Trigger: retention.TriggerCLI})
			if err != nil {
				t.Fatal(err)
			}
			purged, redacted := map[string]int64{}, map[string]int64{}
			for _, c := range run.Counts {
				purged[c.Collection] += c.RowsPurged
				redacted[c.Collection] += c.RowsRedacted
			}
			if purged["webui.chat"] != 2 || purged["webui.file"] != 1 || redacted["webui.chat"] != 2 {
				t.Errorf("sweep purged %v, redacted %v; want 2 chats and 1 file purged, 2 chats redacted", purged, redacted)
			}
			swept := webuiRows(t, app, "1 = 1")
			for table := range webuiTables {
				got := swept[table]
				if table == "chat" {
					got = webuiRows(t, app, fmt.Sprintf("created_at >= %d", redactBefore), "chat")["chat"]
				}
				if !slices.Equal(got, kept[table]) {
					t.Errorf("%s after the sweep:\n%v\nwant:\n%v", table, got, kept[table])
				}
			}
			if got := dumpRows(t, app, fmt.Sprintf(redactCols, redactBefore, cutoff)); fmt.Sprint(got) != fmt.Sprint(redactedBefore) || len(got) != 2 {
				t.Errorf("redacted chats' other columns = %v, want %v", got, redactedBefore)
			}
			for _, r := range dumpRows(t, app, fmt.Sprintf(`SELECT chat FROM chat WHERE created_at < %d ORDER BY id`, redactBefore)) {
				checkRedactedChat(t, r[0])
			}
			if got := uploadsIn(t, uploads); !slices.Equal(got, []string{"u2-file_cv.pdf"}) {
				t.Errorf("uploads after the sweep = %v, want Bob's", got)
			}
		})
	}
}

// checkRedactedChat fails unless the chat document raw (as dumpRows quotes
// it) has no address left in its messages, in the map and in the array,
// each now holding a pseudonym, and the rest of the conversation as it was.
func checkRedactedChat(t *testing.T, raw string) {
	t.Helper()
	text, err := strconv.Unquote(raw)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		History struct {
			Messages map[string]struct{ Content string }
		}
		Messages []struct{ Content string }
	}
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatalf("redacted chat is not JSON: %v", err)
	}
	contents := []string{doc.History.Messages["m1"].Content, doc.Messages[0].Content}
	for _, c := range contents {
		if strings.Contains(c, "@example.com") || !strings.Contains(c, "<email:") || !strings.HasSuffix(c, ", looking for a new job") {
			t.Errorf("redacted message = %q, want the address replaced by a pseudonym", c)
		}
	}
	if doc.History.Messages["m2"].Content != "Tell me more" || doc.Messages[1].Content != "Tell me more" || contents[0] != contents[1] {
		t.Errorf("redacted chat = %s", text)
	}
}

// uploadsIn lists the files in dir.
func uploadsIn(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// reportReader writes the access package and keeps its report.html.
type reportReader struct{ html *string }

func (r reportReader) Export(ctx context.Context, req *dsr.Request, a *engine.Access) (*engine.ExportResult, error) {
	var buf bytes.Buffer
	now := time.Now()
	if _, err := export.Write(ctx, &buf, export.PackageInfo{RequestID: req.ID, Email: req.Email, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}, a); err != nil {
		return nil, err
	}
	z, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		return nil, err
	}
	f, err := z.Open("report.html")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	*r.html = string(b)
	return &engine.ExportResult{}, err
}

// exporters runs each Exporter in turn over one access request.
type exporters []engine.Exporter

func (es exporters) Export(ctx context.Context, r *dsr.Request, a *engine.Access) (*engine.ExportResult, error) {
	var res *engine.ExportResult
	for _, e := range es {
		var err error
		if res, err = e.Export(ctx, r, a); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// sweeperFor is a retention Sweeper over stores with its state in SQLite
// and the clock at now.
func sweeperFor(t *testing.T, reg *registry.Registry, stores map[string]retention.Store, eng *engine.Engine, now time.Time) *retention.Sweeper {
	t.Helper()
	db, err := state.Open(context.Background(), "sqlite://"+testdb.SQLite(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return now }
	audit := &state.AuditLog{DB: db}
	hasher := dsr.NewSubjectHasher([]byte("test-key"))
	return &retention.Sweeper{Registry: reg, Stores: stores, Engine: eng,
		Runs: &state.RetentionRuns{DB: db, Audit: audit, Subject: hasher}, Holds: &state.Holds{DB: db, Audit: audit},
		Settings: &state.TenantSettings{DB: db, Audit: audit}, Now: func() time.Time { return now }, Pause: -1,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))}
}
