package engine_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/blobstore"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// pathRegistry is an app whose rows hold absolute paths of uploads, as
// Open WebUI writes them. %[1]s is the bucket folder, %[2]s the store's
// extra options, %[3]s the SQL driver.
const pathRegistry = `
stores:
  app:     {kind: sql, driver: %[3]s, dsn_env: APP_DSN}
  uploads: {kind: blob, url: "file://%[1]s", path_prefix: /app/backend/data/uploads/%[2]s}
collections:
  app.users:
    identity: {email: email}
    erasure: delete
  app.files:
    references: {user_id: users.id}
    files: {path: uploads}
    erasure: delete
`

// pathEnv is one test's app: rows in SQLite, files in a folder, and a
// folder outside the bucket that links point into.
type pathEnv struct {
	app     *sqlstore.Store
	bucket  string
	outside string
	eng     *engine.Engine
}

// setupPaths seeds users 1 (ada) and 2 (grace), each with one upload held
// as an absolute path under the prefix, in a database of driver; extra rows
// are added by the tests.
func setupPaths(t *testing.T, driver, opts string) *pathEnv {
	t.Helper()
	root := t.TempDir()
	e := &pathEnv{bucket: filepath.Join(root, "uploads"), outside: filepath.Join(root, "outside")}
	for _, d := range []string{e.bucket, e.outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	reg := testkit.Registry(t, pathRegistry, e.bucket, opts, driver)
	e.app = testkit.OpenStore(t, "app", driver, []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL)`,
		`CREATE TABLE files (id VARCHAR(64) PRIMARY KEY, user_id INTEGER NOT NULL, path TEXT)`,
	}...)
	for _, u := range []struct {
		id    int64
		email string
	}{{1, "ada@example.com"}, {2, "grace@example.com"}} {
		testkit.Exec(t, e.app, `INSERT INTO users (id, email) VALUES (?, ?)`, u.id, u.email)
		name := fmt.Sprintf("f%d_cv.txt", u.id)
		testkit.Exec(t, e.app, `INSERT INTO files (id, user_id, path) VALUES (?, ?, ?)`, fmt.Sprintf("f%d", u.id), u.id, "/app/backend/data/uploads/"+name)
		e.write(t, filepath.Join(e.bucket, name), u.email+" CV")
	}
	blobs, err := blobstore.OpenRegistry(context.Background(), reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	e.eng = engine.New(reg, map[string]connector.Store{"app": e.app}, dsr.NewSubjectHasher([]byte("k")))
	e.eng.Blobs = blobs.Engine()
	return e
}

func (e *pathEnv) write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (e *pathEnv) rows(t *testing.T) string {
	t.Helper()
	return fmt.Sprint(dumpRows(t, e.app, `SELECT id, user_id, path FROM files ORDER BY id`), dumpRows(t, e.app, `SELECT id, email FROM users ORDER BY id`))
}

func planFiles(t *testing.T, e *pathEnv, email string) engine.PlanFiles {
	t.Helper()
	p, err := e.eng.Plan(context.Background(), email, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Files) != 1 {
		t.Fatalf("plan files = %+v, want one file column", p.Files)
	}
	return p.Files[0]
}

// TestErasurePathPrefix: rows holding absolute paths under the store's
// path_prefix are mapped onto the bucket; the erasure deletes Ada's rows and
// file and nobody else's.
func TestErasurePathPrefix(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			e := setupPaths(t, d, "")
			if pf := planFiles(t, e, "ada@example.com"); pf.Delete != 1 || pf.Refused != 0 || pf.Stops || pf.Collection != "app.files" || pf.Column != "path" {
				t.Errorf("plan files = %+v, want 1 to delete", pf)
			}
			out, err := e.eng.Execute(context.Background(), erasure("ada@example.com", ""), newJournal())
			if err != nil {
				t.Fatal(err)
			}
			if !out.Verification.Passed || out.Counts["uploads.files"] != 1 || out.Counts["app.files"] != 1 {
				t.Errorf("outcome = %+v %v", out.Verification, out.Counts)
			}
			if fileExists(filepath.Join(e.bucket, "f1_cv.txt")) {
				t.Error("Ada's file is still in the bucket")
			}
			if !fileExists(filepath.Join(e.bucket, "f2_cv.txt")) {
				t.Error("Grace's file was deleted")
			}
		})
	}
}

// setupRefused is setupPaths with one more of Ada's files, f9, whose
// reference leads out of the bucket to a file that exists there.
func setupRefused(t *testing.T, driver, opts string) *pathEnv {
	t.Helper()
	e := setupPaths(t, driver, opts)
	testkit.Exec(t, e.app, `INSERT INTO files (id, user_id, path) VALUES ('f9', 1, '/app/backend/data/uploads/../../../outside/x.txt')`)
	e.write(t, filepath.Join(e.outside, "x.txt"), "not in the bucket")
	return e
}

// TestErasureStopsOnRefusedFile: one of Ada's references leaves the bucket
// once mapped. The plan says so, and the erasure stops before any row or
// file changes, naming the collection and column, not the person.
func TestErasureStopsOnRefusedFile(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			e := setupRefused(t, d, "")
			if pf := planFiles(t, e, "ada@example.com"); pf.Delete != 1 || pf.Refused != 1 || !pf.Stops {
				t.Errorf("plan files = %+v, want 1 to delete, 1 refused, stops", pf)
			}
			before := e.rows(t)
			_, err := e.eng.Execute(context.Background(), erasure("ada@example.com", ""), newJournal())
			msg := dsr.ErrorMessage(err)
			if dsr.ErrorCode(err) != dsr.EUNPROCESSABLE || !strings.Contains(msg, "collection app.files, file column path") ||
				!strings.Contains(msg, "nothing was erased") || strings.Contains(msg, "ada@") || strings.Contains(msg, "x.txt") {
				t.Fatalf("err = %v, want EUNPROCESSABLE naming app.files and path only", err)
			}
			if after := e.rows(t); after != before {
				t.Errorf("rows changed:\n%s\n%s", before, after)
			}
			for _, f := range []string{filepath.Join(e.bucket, "f1_cv.txt"), filepath.Join(e.bucket, "f2_cv.txt"), filepath.Join(e.outside, "x.txt")} {
				if !fileExists(f) {
					t.Errorf("%s was deleted", f)
				}
			}
		})
	}
}

// TestErasureBestEffortRefusedFile: on a best_effort blob store, one of
// Ada's references that leaves the bucket does not stop the erasure: her
// rows and her other file go, the file outside stays, and verification
// fails naming the refused reference; Grace's row and file stay.
func TestErasureBestEffortRefusedFile(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			e := setupRefused(t, d, ", best_effort: true")
			if pf := planFiles(t, e, "ada@example.com"); pf.Delete != 1 || pf.Refused != 1 || pf.Stops {
				t.Errorf("plan files = %+v, want 1 to delete, 1 refused, not stopping", pf)
			}
			out, err := e.eng.Execute(context.Background(), erasure("ada@example.com", ""), newJournal())
			if err != nil {
				t.Fatal(err)
			}
			if v := out.Verification; v.Passed || v.Found["uploads.files_refused"] != 1 {
				t.Errorf("verification = %+v, want failed naming 1 refused reference", v)
			}
			if got := e.rows(t); got != `[["f2" "2" "/app/backend/data/uploads/f2_cv.txt"]] [["2" "grace@example.com"]]` {
				t.Errorf("rows = %s, want only Grace's", got)
			}
			if fileExists(filepath.Join(e.bucket, "f1_cv.txt")) || !fileExists(filepath.Join(e.bucket, "f2_cv.txt")) || !fileExists(filepath.Join(e.outside, "x.txt")) {
				t.Error("want Ada's CV deleted, Grace's CV and the file outside the bucket kept")
			}
		})
	}
}

// fileReader is an Exporter that records the files an access package
// would hold, and the references it refuses.
type fileReader struct{ read, refused []string }

func (fr *fileReader) Export(ctx context.Context, _ *dsr.Request, a *engine.Access) (*engine.ExportResult, error) {
	err := a.Files(ctx, func(f engine.FileRef, open func() (io.ReadCloser, error)) error {
		if f.Refused {
			fr.refused = append(fr.refused, f.Key)
			return nil
		}
		rc, err := open()
		if err != nil {
			return err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		fr.read = append(fr.read, f.Key+"="+string(b))
		return err
	})
	return &engine.ExportResult{Object: "none"}, err
}

// TestFilesSymlinks: a file key inside the bucket that is a symbolic link,
// and one under a symbolically linked folder, both pointing outside the
// bucket, are refused like '..': access does not read them, the plan
// reports them, an erasure stops (or, on a best_effort store, erases the
// rest, leaves the targets alone and fails verification naming them).
func TestFilesSymlinks(t *testing.T) {
	for _, opts := range []string{"", ", best_effort: true"} {
		t.Run("opts"+opts, func(t *testing.T) {
			e := setupPaths(t, registry.DriverSQLite, opts)
			e.write(t, filepath.Join(e.outside, "secret.txt"), "OUTSIDE secret")
			if err := os.MkdirAll(filepath.Join(e.outside, "dir"), 0o755); err != nil {
				t.Fatal(err)
			}
			e.write(t, filepath.Join(e.outside, "dir", "y.txt"), "OUTSIDE dir file")
			if err := os.Symlink(filepath.Join(e.outside, "secret.txt"), filepath.Join(e.bucket, "link.txt")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(e.outside, "dir"), filepath.Join(e.bucket, "linked")); err != nil {
				t.Fatal(err)
			}
			testkit.Exec(t, e.app, `INSERT INTO files (id, user_id, path) VALUES ('f7', 1, '/app/backend/data/uploads/link.txt'), ('f8', 1, 'linked/y.txt')`)

			fr := &fileReader{}
			e.eng.Exporter = fr
			out, err := e.eng.Execute(context.Background(), &dsr.Request{ID: "acc", Type: dsr.TypeAccess, Email: "ada@example.com"}, newJournal())
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(strings.Join(fr.read, ","), "OUTSIDE") || len(fr.read) != 1 || len(fr.refused) != 2 || out.Details["files_refused"] != int64(2) {
				t.Errorf("access read %v, refused %v, details %v; want only Ada's CV read and both links refused", fr.read, fr.refused, out.Details)
			}
			if pf := planFiles(t, e, "ada@example.com"); pf.Delete != 1 || pf.Refused != 2 || pf.Stops != (opts == "") {
				t.Errorf("plan files = %+v", pf)
			}
			before := e.rows(t)
			out, err = e.eng.Execute(context.Background(), erasure("ada@example.com", ""), newJournal())
			if opts == "" {
				if dsr.ErrorCode(err) != dsr.EUNPROCESSABLE || !strings.Contains(dsr.ErrorMessage(err), "2 file reference(s) refused") {
					t.Fatalf("err = %v, want the erasure stopped on 2 refused references", err)
				}
				if e.rows(t) != before || !fileExists(filepath.Join(e.bucket, "f1_cv.txt")) {
					t.Error("a stopped erasure changed rows or files")
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if v := out.Verification; v.Passed || v.Found["uploads.files_refused"] != 2 {
					t.Errorf("verification = %+v, want failed naming the 2 refused references", v)
				}
				if out.Details["files_refused"] != int64(2) || out.Counts["app.files"] != 3 || fileExists(filepath.Join(e.bucket, "f1_cv.txt")) {
					t.Errorf("details %v counts %v: want rows and Ada's CV erased, 2 refused", out.Details, out.Counts)
				}
			}
			for _, f := range []string{filepath.Join(e.outside, "secret.txt"), filepath.Join(e.outside, "dir", "y.txt"), filepath.Join(e.bucket, "link.txt")} {
				if _, err := os.Lstat(f); err != nil {
					t.Errorf("%s was deleted through a link", f)
				}
			}
		})
	}
}
