package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersion: lethe version prints what the toolchain recorded in the
// binary (the module version and Go version go version -m shows) and the
// migration level it carries, its newest migration file; without a state
// store configured, nothing about one (TestUpgradeFromOlderLevel checks
// the store's level).
func TestVersion(t *testing.T) {
	cmd := exec.Command(binary, "version")
	cmd.Env = withoutLetheEnv()
	raw, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	versions := migrationVersions(t, "postgres")
	if want := fmt.Sprintf("migration level %d", versions[len(versions)-1]); len(lines) != 2 || lines[1] != want {
		t.Errorf("lethe version = %q; want a second and last line %q", lines, want)
	}
	out := lines[0]
	meta, err := exec.Command("go", "version", "-m", binary).Output()
	if err != nil {
		t.Fatal(err)
	}
	mod := regexp.MustCompile(`(?m)^\tmod\t\S+\t(\S+)`).FindSubmatch(meta)
	goVersion := regexp.MustCompile(`^\S+: (go\S+)`).FindSubmatch(meta)
	if mod == nil || goVersion == nil {
		t.Fatalf("go version -m: %s", meta)
	}
	want := "lethe " + string(mod[1])
	if line := strings.TrimSpace(out); !strings.HasPrefix(line, want) || !strings.HasSuffix(line, string(goVersion[1])) {
		t.Errorf("lethe version = %q; want %q … %s", line, want, goVersion[1])
	}
}

// TestPrintVersion: the commit, its time and a dirty tree are shown when
// the build recorded them.
func TestPrintVersion(t *testing.T) {
	var b bytes.Buffer
	printVersion(&b, &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-11-29T04:00:00Z"}, {Key: "vcs.modified", Value: "true"}}})
	if got, want := b.String(), "lethe v1.2.3 (commit abc123-dirty, 2026-11-29T04:00:00Z) go1.26.0\n"; got != want {
		t.Errorf("printVersion = %q; want %q", got, want)
	}
}
