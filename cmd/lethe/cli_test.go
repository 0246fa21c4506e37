package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// runCLI runs a command line in-process with the variables env.
func runCLI(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut, func(k string) string { return env[k] })
	return out.String(), errOut.String(), code
}

// TestFlagBeatsVariableBeatsDefault is the precedence applyEnv gives every
// bound flag, whatever its type.
func TestFlagBeatsVariableBeatsDefault(t *testing.T) {
	for _, tc := range []struct {
		name      string
		args      []string
		env       map[string]string
		addr      string
		every     time.Duration
		wantUsage bool
	}{
		{"default", nil, nil, "127.0.0.1:8080", 30 * time.Second, false},
		{"variable", nil, map[string]string{"LETHE_ADDR": "0.0.0.0:9000", "LETHE_HTTP_READ_TIMEOUT": "5s"}, "0.0.0.0:9000", 5 * time.Second, false},
		{"flag", []string{"--addr", ":7000", "--http-read-timeout", "7s"}, map[string]string{"LETHE_ADDR": "0.0.0.0:9000", "LETHE_HTTP_READ_TIMEOUT": "5s"}, ":7000", 7 * time.Second, false},
		{"empty variable is unset", nil, map[string]string{"LETHE_ADDR": ""}, "127.0.0.1:8080", 30 * time.Second, false},
		{"bad variable", nil, map[string]string{"LETHE_HTTP_READ_TIMEOUT": "soon"}, "", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c Config
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "listen address")
			bindEnv(fs, "addr", "LETHE_ADDR")
			c.timeoutFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			err := applyEnv(fs, func(k string) string { return tc.env[k] })
			if tc.wantUsage {
				if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "LETHE_HTTP_READ_TIMEOUT") {
					t.Fatalf("error %v; want a usage error naming the variable", err)
				}
				return
			}
			if err != nil || c.Addr != tc.addr || c.HTTP.Read != tc.every {
				t.Fatalf("addr %q, read timeout %s, %v; want %q, %s", c.Addr, c.HTTP.Read, err, tc.addr, tc.every)
			}
		})
	}
}

// TestCommandsReadTheirVariables: the command tree applies the variables
// (LETHE_CONFIG here) and a flag on the command line wins over them.
func TestCommandsReadTheirVariables(t *testing.T) {
	fromEnv := filepath.Join(t.TempDir(), "from-env.yaml")
	fromFlag := filepath.Join(t.TempDir(), "from-flag.yaml")
	env := map[string]string{"LETHE_CONFIG": fromEnv}
	if out, _, code := runCLI(t, env, "config", "check"); code != 1 || !strings.Contains(out, "from-env.yaml") {
		t.Errorf("config check with LETHE_CONFIG: exit %d, %q; want 1 naming from-env.yaml", code, out)
	}
	if out, _, code := runCLI(t, env, "config", "check", "--config", fromFlag); code != 1 || !strings.Contains(out, "from-flag.yaml") || strings.Contains(out, "from-env") {
		t.Errorf("config check with --config: exit %d, %q; want 1 naming from-flag.yaml only", code, out)
	}
	if _, errOut, code := runCLI(t, nil, "config", "check"); code != 2 || !strings.Contains(errOut, "LETHE_CONFIG") {
		t.Errorf("config check without a registry: exit %d, %q; want 2", code, errOut)
	}
}

// TestExitCodes: 2 for a command line that is not understood, 0 for help,
// which goes to stdout.
func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string // in stdout
	}{
		{nil, 2, ""},
		{[]string{"bogus"}, 2, ""},
		{[]string{"keys"}, 2, ""},
		{[]string{"keys", "delete"}, 2, ""},
		{[]string{"serve", "--bogus"}, 2, ""},
		{[]string{"serve", "extra"}, 2, ""},
		{[]string{"request", "show"}, 2, ""},
		{[]string{"keys", "create"}, 2, ""},
		{[]string{"help"}, 0, "retention"},
		{[]string{"help", "serve"}, 0, "LETHE_SUBJECT_KEY"},
		{[]string{"serve", "--help"}, 0, "LETHE_HTTP_IDLE_TIMEOUT"},
		{[]string{"audit", "verify", "--help"}, 0, "LETHE_DATABASE_URL"},
		{[]string{"completion", "bash"}, 0, "__start_lethe"},
	} {
		out, errOut, code := runCLI(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(out, tc.out) {
			t.Errorf("lethe %s: exit %d, stdout %q, stderr %q; want exit %d with %q", strings.Join(tc.args, " "), code, out, errOut, tc.code, tc.out)
		}
		if code == 2 && !strings.Contains(errOut, "--help\" for usage") {
			t.Errorf("lethe %s: stderr %q; want the hint to --help", strings.Join(tc.args, " "), errOut)
		}
	}
}

// TestAuditVerifyNeedsNoSecret: the chain is checked with the state store
// alone; LETHE_SUBJECT_KEY is not read.
func TestAuditVerifyNeedsNoSecret(t *testing.T) {
	url := "sqlite://" + filepath.Join(t.TempDir(), "state.db")
	out, errOut, code := runCLI(t, map[string]string{"LETHE_DATABASE_URL": url}, "audit", "verify")
	if code != 0 || !strings.Contains(out, "audit chain ok: 0 entries") {
		t.Fatalf("audit verify without LETHE_SUBJECT_KEY: exit %d, %q %q", code, out, errOut)
	}
}

// TestDocumentedVariables: the README's configuration table lists every
// variable the commands read, and only those.
func TestDocumentedVariables(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(LETHE_[A-Z0-9_]+)` \\|").FindAllStringSubmatch(string(raw), -1) {
		documented[m[1]] = true
	}
	_, env := serveFlagNames(t)
	for v := range env {
		if !documented[v] {
			t.Errorf("README's Configuration table does not list %s", v)
		}
	}
	for v := range documented {
		if env[v] == "" {
			t.Errorf("README documents %s, which no command reads", v)
		}
	}
}

// TestReadmeLayoutListsEveryPackage: the README's Layout table has a row
// for every package of the module, or names it in its parent's row (as
// `sqlstore` under `pkg/connector/`).
func TestReadmeLayoutListsEveryPackage(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, layout, _ := strings.Cut(string(raw), "\n## Layout\n")
	layout, _, _ = strings.Cut(layout, "\n## ")
	rows := map[string]string{} // path → its row
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z0-9/_-]+)/` \\|(.*)$").FindAllStringSubmatch(layout, -1) {
		rows[m[1]] = m[2]
	}
	if len(rows) == 0 {
		t.Fatal("no Layout table in README.md")
	}
	for _, pkg := range packageDirs(t, "../..") {
		parent, base := filepath.Dir(pkg), filepath.Base(pkg)
		if _, ok := rows[pkg]; ok || strings.Contains(rows[parent], "`"+base+"`") || strings.Contains(rows[parent], "`"+base+"/`") {
			continue
		}
		t.Errorf("README's Layout table does not list %s/", pkg)
	}
}

// packageDirs returns the folders below root, relative to it, that hold a
// Go package (a .go file other than a test), leaving out testdata and
// hidden folders.
func packageDirs(t *testing.T, root string) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bin") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		dir, err := filepath.Rel(root, filepath.Dir(path))
		if err == nil && dir != "." && !seen[dir] {
			seen[dir] = true
			out = append(out, filepath.ToSlash(dir))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
