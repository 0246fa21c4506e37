package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/state"
)

// readmeSection returns the text of deploy/README.md's "## name" section.
func readmeSection(raw []byte, name string) (string, error) {
	_, rest, ok := strings.Cut(string(raw), "\n## "+name+"\n")
	if !ok {
		return "", fmt.Errorf("deploy/README.md: no section %q", name)
	}
	section, _, _ := strings.Cut(rest, "\n## ")
	return section, nil
}

var (
	envRow       = regexp.MustCompile("(?m)^\\| `(LETHE_[A-Z0-9_]+)` \\| `--([a-z0-9-]+)` \\| (yes|no) \\| (yes|no) \\|")
	textBlock    = regexp.MustCompile("(?s)```text\n(.*?)```")
	nginxBlock   = regexp.MustCompile("(?s)```nginx\n(.*?)```")
	nginxLoc     = regexp.MustCompile(`(?m)^location\s+(\S+)\s`)
	contentsLink = regexp.MustCompile(`\[([^\]]+)\]\(#[a-z-]+\)`)
)

// deployFacts are what deploy/README.md describes: the variables the
// binary reads (with their flags), those each example sets, and the
// paths the Ingress routes to Lethe.
type deployFacts struct {
	env          map[string]string
	compose, k8s map[string]bool
	paths        []string
}

// checkDeployReadme compares deploy/README.md with facts.
func checkDeployReadme(raw []byte, facts deployFacts) error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	sections := []string{"Image", "Compose", "Kubernetes", "Environment variables", "Ports", "TLS and what to expose", "Sizing"}
	var contents []string
	for _, m := range contentsLink.FindAllStringSubmatch(strings.SplitN(string(raw), "\n## ", 2)[0], -1) {
		contents = append(contents, m[1])
	}
	for i, s := range sections {
		if j := slices.Index(contents, s); j < 0 || (i > 0 && j < slices.Index(contents, sections[i-1])) {
			fail("deploy/README.md: the contents line lists %v; want %q in its place", contents, s)
		}
	}

	env, err := readmeSection(raw, "Environment variables")
	if err != nil {
		return err
	}
	rows := map[string]bool{}
	for _, m := range envRow.FindAllStringSubmatch(env, -1) {
		v, flag, inCompose, inK8s := m[1], m[2], m[3] == "yes", m[4] == "yes"
		rows[v] = true
		if want, ok := facts.env[v]; !ok {
			fail("deploy/README.md: %s is not a variable lethe reads", v)
		} else if flag != want {
			fail("deploy/README.md: %s is the variable of --%s, not --%s", v, want, flag)
		}
		if inCompose != facts.compose[v] {
			fail("deploy/README.md: %s: compose.yaml column says %s; compose.yaml sets it: %v", v, m[3], facts.compose[v])
		}
		if inK8s != facts.k8s[v] {
			fail("deploy/README.md: %s: deploy/k8s column says %s; deployment.yaml sets it: %v", v, m[4], facts.k8s[v])
		}
	}
	for v := range facts.env {
		if !rows[v] {
			fail("deploy/README.md: the table has no row for %s", v)
		}
	}

	tls, err := readmeSection(raw, "TLS and what to expose")
	if err != nil {
		return err
	}
	m := textBlock.FindStringSubmatch(tls)
	if m == nil {
		return errors.Join(append(errs, errors.New("deploy/README.md: TLS and what to expose: no ```text block of paths"))...)
	}
	listed := strings.Fields(m[1])
	want := slices.Clone(facts.paths)
	sort.Strings(listed)
	sort.Strings(want)
	if !slices.Equal(listed, want) {
		fail("deploy/README.md: the paths to expose are %v; deploy/k8s/ingress.yaml routes %v to Lethe", listed, want)
	}
	var locs []string
	if n := nginxBlock.FindStringSubmatch(tls); n != nil {
		for _, l := range nginxLoc.FindAllStringSubmatch(n[1], -1) {
			locs = append(locs, strings.TrimSuffix(l[1], "/"))
		}
	}
	sort.Strings(locs)
	if !slices.Equal(locs, want) {
		fail("deploy/README.md: the nginx example routes %v; want %v", locs, want)
	}

	sizing, err := readmeSection(raw, "Sizing")
	if err != nil {
		return err
	}
	if !regexp.MustCompile(`(?m)^\| idle[^|]* \| [0-9,]+ kB \|$`).MatchString(sizing) {
		fail("deploy/README.md: Sizing has no measured figures (a row of the idle resident memory in kB)")
	}
	return errors.Join(errs...)
}

// TestDeployReadme checks deploy/README.md against the binary's variables,
// compose.yaml, deploy/k8s and the Ingress, and that each check fails on a
// README that drifted.
func TestDeployReadme(t *testing.T) {
	root := newRootCmd(&cli{stdout: io.Discard, stderr: io.Discard, getenv: os.Getenv})
	facts := deployFacts{env: envVars(root), compose: map[string]bool{}, k8s: map[string]bool{}}
	raw, err := os.ReadFile("../../deploy/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := loadCompose(raw, composeSecrets)
	if err != nil {
		t.Fatal(err)
	}
	for k := range p.Services["lethe"].Environment {
		facts.compose[k] = true
	}
	set, err := decodeK8s(k8sFiles(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range set.deployment.Spec.Template.Spec.Containers {
		if c.Image == letheImage {
			for _, e := range c.Env {
				facts.k8s[e.Name] = true
			}
		}
	}
	for _, ing := range set.ingresses {
		for _, r := range ing.Spec.Rules {
			for _, path := range r.HTTP.Paths {
				if b := path.Backend.Service; b != nil && b.Port.Name == "lethe" {
					facts.paths = append(facts.paths, path.Path)
				}
			}
		}
	}
	readme, err := os.ReadFile("../../deploy/README.md")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkDeployReadme(readme, facts); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ name, old, new, want string }{
		{"missing row", "| `LETHE_HEARTBEAT` | `--heartbeat` | no | no | default `5s` |\n", "", "no row for LETHE_HEARTBEAT"},
		{"unknown variable", "`LETHE_HEARTBEAT` | `--heartbeat`", "`LETHE_HEARTBEATS` | `--heartbeat`", "LETHE_HEARTBEATS is not a variable"},
		{"wrong flag", "`LETHE_HEARTBEAT` | `--heartbeat`", "`LETHE_HEARTBEAT` | `--beat`", "not --beat"},
		{"wrong compose mark", "| `LETHE_PUBLIC_URL` | `--public-url` | no |", "| `LETHE_PUBLIC_URL` | `--public-url` | yes |", "compose.yaml column says yes"},
		{"wrong k8s mark", "| `LETHE_SMTP_URL` | `--smtp-url` | no | yes |", "| `LETHE_SMTP_URL` | `--smtp-url` | no | no |", "deploy/k8s column says no"},
		{"extra path", "/privacy\n/v1/self\n", "/privacy\n/v1/self\n/v1\n", "the paths to expose are"},
		{"nginx path", "location /v1/self/ {", "location /v1/ {", "the nginx example routes"},
		{"no sizing figures", "| idle, 20 s after start | 58,084 kB |", "| idle | see make bench |", "Sizing has no measured figures"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !bytes.Contains(readme, []byte(tc.old)) {
				t.Fatalf("deploy/README.md holds no %q", tc.old)
			}
			err := checkDeployReadme(bytes.Replace(readme, []byte(tc.old), []byte(tc.new), 1), facts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want one saying %q", err, tc.want)
			}
		})
	}
}

// TestDeployReadmeCommands checks commands of deploy/README.md against what
// they name: every kubectl exec targets a Deployment and a container of
// deploy/k8s and calls the image's binary by its path (the image has no
// PATH entry for it), and the lethe version example prints the migration
// level this binary carries.
func TestDeployReadmeCommands(t *testing.T) {
	readme, err := os.ReadFile("../../deploy/README.md")
	if err != nil {
		t.Fatal(err)
	}
	set, err := decodeK8s(k8sFiles(t))
	if err != nil {
		t.Fatal(err)
	}
	containers := map[string]string{} // name: image
	for _, c := range set.deployment.Spec.Template.Spec.Containers {
		containers[c.Name] = c.Image
	}
	execs := regexp.MustCompile("kubectl exec ([^`\n]*)").FindAllStringSubmatch(string(readme), -1)
	if len(execs) == 0 {
		t.Fatal("deploy/README.md: no kubectl exec command")
	}
	for _, m := range execs {
		f := strings.Fields(m[1])
		var target, container, cmd string
		for i := 0; i < len(f); i++ {
			switch {
			case f[i] == "-c" && i+1 < len(f):
				container = f[i+1]
				i++
			case f[i] == "--" && i+1 < len(f):
				cmd = f[i+1]
				i = len(f)
			case strings.HasPrefix(f[i], "deploy/"):
				target = strings.TrimPrefix(f[i], "deploy/")
			}
		}
		if target != set.deployment.Name {
			t.Errorf("deploy/README.md: kubectl exec %s: deploy/%s; the Deployment of deploy/k8s is %s", m[1], target, set.deployment.Name)
		}
		if containers[container] != letheImage {
			t.Errorf("deploy/README.md: kubectl exec %s: container %q is not Lethe's (containers %v)", m[1], container, containers)
		}
		if cmd != "/lethe" {
			t.Errorf("deploy/README.md: kubectl exec %s: runs %q; the image's binary is /lethe, not on PATH", m[1], cmd)
		}
	}

	carried, err := state.EmbeddedLevel("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	upgrades, err := readmeSection(readme, "Upgrades")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("migration level %d", carried)
	levels := regexp.MustCompile(`(?m)^migration level [0-9]+$|at migration level [0-9]+: current`).FindAllString(upgrades, -1)
	if len(levels) != 2 || levels[0] != want || levels[1] != "at "+want+": current" {
		t.Errorf("deploy/README.md: Upgrades: the lethe version example prints %q; this binary carries %s", levels, want)
	}
}
