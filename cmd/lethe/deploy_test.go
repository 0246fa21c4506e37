package main

import (
	"bufio"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

var letheVar = regexp.MustCompile(`\bLETHE_[A-Z0-9_]+\b`)

// serveFlagNames returns the flags lethe serve defines, and the variables
// every command reads (from the command tree: no list kept by hand).
func serveFlagNames(t *testing.T) (flags map[string]bool, env map[string]string) {
	t.Helper()
	root := newRootCmd(&cli{stdout: io.Discard, stderr: io.Discard, getenv: os.Getenv})
	serve, _, err := root.Find([]string{"serve"})
	if err != nil || serve.Name() != "serve" {
		t.Fatalf("no serve command: %v", err)
	}
	flags = map[string]bool{}
	serve.Flags().VisitAll(func(f *pflag.Flag) { flags[f.Name] = true })
	return flags, envVars(root)
}

// TestDeployNamesOnlyWhatTheBinaryReads parses deploy/Dockerfile and
// deploy/compose.yaml and fails on any LETHE_ variable or serve flag that
// the binary does not read.
func TestDeployNamesOnlyWhatTheBinaryReads(t *testing.T) {
	flags, env := serveFlagNames(t)
	for _, v := range []string{"LETHE_ADDR", "LETHE_DATABASE_URL", "LETHE_SUBJECT_KEY", "LETHE_CONFIG"} {
		if env[v] == "" {
			t.Errorf("the command tree reads no %s", v)
		}
	}

	// Dockerfile: ENV lines and the CMD/ENTRYPOINT arguments.
	f, err := os.Open("../../deploy/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var sawEntrypoint bool
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "ENV ") || strings.HasPrefix(line, "ARG ") {
			for _, v := range letheVar.FindAllString(line, -1) {
				if _, ok := env[v]; !ok {
					t.Errorf("deploy/Dockerfile names %s, which lethe does not read", v)
				}
			}
		}
		if strings.HasPrefix(line, "ENTRYPOINT") || strings.HasPrefix(line, "CMD") {
			sawEntrypoint = sawEntrypoint || strings.Contains(line, "/lethe")
			checkArgs(t, "deploy/Dockerfile", line, flags)
		}
	}
	if !sawEntrypoint {
		t.Error("deploy/Dockerfile has no ENTRYPOINT or CMD running /lethe")
	}

	// compose.yaml: every service's environment and command.
	raw, err := os.ReadFile("../../deploy/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
			Command     any               `yaml:"command"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatalf("deploy/compose.yaml: %v", err)
	}
	lethe, ok := compose.Services["lethe"]
	if !ok {
		t.Fatal("deploy/compose.yaml has no lethe service")
	}
	if lethe.Environment["LETHE_DATABASE_URL"] == "" || !strings.HasPrefix(lethe.Environment["LETHE_DATABASE_URL"], "postgres://") {
		t.Error("deploy/compose.yaml: the lethe service must use Postgres through LETHE_DATABASE_URL")
	}
	for name, svc := range compose.Services {
		for v := range svc.Environment {
			if strings.HasPrefix(v, "LETHE_") {
				if _, ok := env[v]; !ok {
					t.Errorf("deploy/compose.yaml: service %s sets %s, which lethe does not read", name, v)
				}
			}
		}
		if cmd, ok := svc.Command.(string); ok {
			checkArgs(t, "deploy/compose.yaml", cmd, flags)
		}
	}
}

var flagArg = regexp.MustCompile(`(?:^|[\s"\[,])--?([a-z][a-z0-9-]*)`)

func checkArgs(t *testing.T, file, line string, flags map[string]bool) {
	t.Helper()
	for _, m := range flagArg.FindAllStringSubmatch(line, -1) {
		if !flags[m[1]] {
			t.Errorf("%s: %q passes --%s, which lethe serve does not define", file, line, m[1])
		}
	}
}

// TestDeployRegistryParses checks that the example registry compose.yaml
// mounts is a valid registry (its stores are not reachable here, so the
// live check is left to lethe config check on the real deployment).
func TestDeployRegistryParses(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/lethe.yaml")
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Parse(raw)
	if err != nil {
		t.Fatalf("deploy/lethe.yaml: %v", err)
	}
	for _, c := range []string{"app.users", "app.messages", "billing.invoices"} {
		if reg.Collections[c] == nil {
			t.Errorf("deploy/lethe.yaml: collection %s missing", c)
		}
	}
}
