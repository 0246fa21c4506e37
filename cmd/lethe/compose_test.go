package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testdb"
)

const composeDir = "../../deploy"

// composeSecrets are the variables compose.yaml's header tells the
// operator to export.
var composeSecrets = []string{"LETHE_ADMIN_TOKEN=" + strings.Repeat("a", 64), "LETHE_SUBJECT_KEY=" + strings.Repeat("b", 64),
	"LETHE_EXPORT_KEY=" + strings.Repeat("c", 64), "LETHE_AUDIT_KEY=" + strings.Repeat("d", 64),
	"LETHE_STATE_PASSWORD=" + strings.Repeat("e", 64)}

// loadCompose loads raw as docker compose would from deploy/: the
// compose specification's schema (unknown keys refused), interpolation
// of env, and its consistency checks.
func loadCompose(raw []byte, env []string) (*types.Project, error) {
	environment := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		environment[k] = v
	}
	abs, err := filepath.Abs(composeDir)
	if err != nil {
		return nil, err
	}
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  abs,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(abs, "compose.yaml"), Content: raw}},
		Environment: environment,
	}, func(o *loader.Options) { o.ResolvePaths = true })
}

var dockerHealthcheck = regexp.MustCompile(`(?m)^HEALTHCHECK\b.*\bCMD\s+(\[.*\])\s*$`)

// dockerfileHealthcheck is the exec form of deploy/Dockerfile's HEALTHCHECK.
func dockerfileHealthcheck(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../../deploy/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	m := dockerHealthcheck.FindSubmatch(raw)
	if m == nil {
		t.Fatal("deploy/Dockerfile: no HEALTHCHECK ... CMD [\"...\"] (the exec form: the image has no shell)")
	}
	var argv []string
	if err := json.Unmarshal(m[1], &argv); err != nil {
		t.Fatalf("deploy/Dockerfile: HEALTHCHECK CMD %s: %v", m[1], err)
	}
	return argv
}

// checkCompose checks the lethe service of compose.yaml against the
// binary; healthy runs a health check's command line (without /lethe)
// with LETHE_ADDR's port moved to the running server's and returns its
// exit code.
func checkCompose(raw []byte, srv *server, healthy func(args []string, addr string) int) error {
	p, err := loadCompose(raw, composeSecrets)
	if err != nil {
		return err
	}
	lethe, ok := p.Services["lethe"]
	if !ok {
		return errors.New("no service lethe")
	}
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	env := map[string]string{}
	for k, v := range lethe.Environment {
		if v != nil {
			env[k] = *v
		}
	}
	known := srv.root()
	for k := range env {
		if _, ok := known[k]; strings.HasPrefix(k, "LETHE_") && !ok {
			fail("service lethe: environment %s, which lethe does not read", k)
		}
	}
	for _, v := range k8sRequiredEnv {
		if env[v] == "" {
			fail("service lethe: no %s", v)
		}
	}

	// Every postgres:// the service is given names a service it waits for
	// until healthy.
	for k, v := range env {
		u, err := url.Parse(v)
		if err != nil || u.Scheme != "postgres" {
			continue
		}
		dep, ok := p.Services[u.Hostname()]
		if !ok || dep.HealthCheck == nil || len(dep.HealthCheck.Test) == 0 {
			fail("service lethe: %s names host %s, no service with a healthcheck", k, u.Hostname())
		}
		if d, ok := lethe.DependsOn[u.Hostname()]; !ok || d.Condition != types.ServiceConditionHealthy {
			fail("service lethe: %s names %s, which it does not wait for (depends_on condition: service_healthy)", k, u.Hostname())
		}
	}
	if !strings.HasPrefix(env["LETHE_DATABASE_URL"], "postgres://") {
		fail("service lethe: LETHE_DATABASE_URL %q; want Lethe's state in Postgres", env["LETHE_DATABASE_URL"])
	}
	// The state database's password is a secret like the keys: it comes
	// from LETHE_STATE_PASSWORD, in the URL and in the postgres service.
	statePassword := strings.Repeat("e", 64)
	if u, err := url.Parse(env["LETHE_DATABASE_URL"]); err == nil {
		if pw, _ := u.User.Password(); pw != statePassword {
			fail("service lethe: LETHE_DATABASE_URL's password is not taken from LETHE_STATE_PASSWORD")
		}
	}
	if pg, ok := p.Services["postgres"]; !ok || pg.Environment["POSTGRES_PASSWORD"] == nil || *pg.Environment["POSTGRES_PASSWORD"] != statePassword {
		fail("service postgres: POSTGRES_PASSWORD is not taken from LETHE_STATE_PASSWORD")
	}

	// The registry is mounted read-only where LETHE_CONFIG says, parses,
	// and its variables are set.
	var reg *registry.Registry
	for _, v := range lethe.Volumes {
		if v.Target == env["LETHE_CONFIG"] {
			if !v.ReadOnly || v.Type != types.VolumeTypeBind {
				fail("service lethe: the registry %s: mount the file read-only", v.Target)
			}
			if reg, err = registry.Load(v.Source); err != nil {
				fail("service lethe: %v", err)
			}
		}
	}
	if reg == nil && len(errs) == 0 {
		fail("service lethe: nothing mounted at LETHE_CONFIG %q", env["LETHE_CONFIG"])
	}
	writable := map[string]bool{}
	for _, v := range lethe.Volumes {
		writable[v.Target] = !v.ReadOnly
	}
	for _, t := range lethe.Tmpfs {
		writable[t] = true
	}
	under := func(dir string) bool {
		for p, w := range writable {
			if w && (dir == p || strings.HasPrefix(dir, strings.TrimSuffix(p, "/")+"/")) {
				return true
			}
		}
		return false
	}
	if reg != nil {
		if err := reg.CheckEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok && v != "" }); err != nil {
			fail("service lethe: %v", err)
		}
		for name, st := range reg.Stores {
			if u, err := url.Parse(st.URL); err == nil && u.Scheme == "file" && !under(u.Path) {
				fail("service lethe: registry store %s (%s): no writable volume there", name, st.URL)
			}
		}
	}

	// A read-only root with the exports and /tmp writable, no capability.
	if !lethe.ReadOnly {
		fail("service lethe: read_only is not true")
	}
	if u, err := url.Parse(env["LETHE_EXPORT_URL"]); err != nil || u.Scheme != "file" || !under(u.Path) {
		fail("service lethe: LETHE_EXPORT_URL %q: no writable volume there", env["LETHE_EXPORT_URL"])
	}
	if !under("/tmp") {
		fail("service lethe: /tmp is not writable (tmpfs)")
	}
	if !slices.Equal(lethe.CapDrop, []string{"ALL"}) {
		fail("service lethe: cap_drop %v; want [ALL]", lethe.CapDrop)
	}

	// The published port is LETHE_ADDR's, on the loopback.
	_, port, err := net.SplitHostPort(env["LETHE_ADDR"])
	if err != nil {
		fail("service lethe: LETHE_ADDR %q: %v", env["LETHE_ADDR"], err)
	}
	if !slices.ContainsFunc(lethe.Ports, func(pc types.ServicePortConfig) bool { return fmt.Sprint(pc.Target) == port }) {
		fail("service lethe: no port publishes %s, the port of LETHE_ADDR", port)
	}
	for _, pc := range lethe.Ports {
		if pc.HostIP != "127.0.0.1" {
			fail("service lethe: port %d is published on %q; keep it on 127.0.0.1 behind the proxy", pc.Target, pc.HostIP)
		}
	}

	// The command and the health check are command lines of the binary,
	// and the health check passes against a running server.
	if len(lethe.Command) > 0 {
		if _, err := srv.flagsOf(lethe.Command); err != nil {
			fail("service lethe: command %v: %v", lethe.Command, err)
		}
	}
	hc := lethe.HealthCheck
	if hc == nil || len(hc.Test) < 3 || hc.Test[0] != "CMD" || hc.Test[1] != "/lethe" {
		fail("service lethe: healthcheck %v; want [CMD, /lethe, healthcheck] (the image has no shell)", hc)
	} else {
		args := hc.Test[2:]
		if flags, err := srv.flagsOf(args); err != nil {
			fail("service lethe: healthcheck %v: %v", hc.Test, err)
		} else {
			for _, a := range args {
				name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
				if strings.HasPrefix(a, "-") && !flags[name] {
					fail("service lethe: healthcheck passes %s, which lethe %s does not define", a, args[0])
				}
			}
			if code := healthy(args, env["LETHE_ADDR"]); code != 0 {
				fail("service lethe: healthcheck %v exits %d against a running lethe serve", hc.Test, code)
			}
		}
	}
	return errors.Join(errs...)
}

// TestComposeFile loads deploy/compose.yaml with compose-go (the loader of
// docker compose) and checks its lethe service against the binary and a
// running server; each check fails when the file drifts.
func TestComposeFile(t *testing.T) {
	srv := newK8sServer(t)
	s := startDemo(t)
	_, demoPort, _ := net.SplitHostPort(strings.TrimPrefix(s.base, "http://"))
	healthy := func(args []string, addr string) int {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return -1
		}
		_, _, code := s.letheBare(t, []string{"LETHE_ADDR=" + net.JoinHostPort(host, demoPort)}, args...)
		return code
	}
	raw, err := os.ReadFile(filepath.Join(composeDir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkCompose(raw, srv, healthy); err != nil {
		t.Fatalf("deploy/compose.yaml:\n%v", err)
	}
	// The image's HEALTHCHECK is the same command line, and it passes too.
	if argv := dockerfileHealthcheck(t); len(argv) < 2 || argv[0] != "/lethe" || healthy(argv[1:], "0.0.0.0:8080") != 0 {
		t.Errorf("deploy/Dockerfile: HEALTHCHECK CMD %v does not pass against a running lethe serve", argv)
	}

	// The image's ENV (continued lines included) names only what lethe reads.
	known := srv.root()
	for _, kv := range readDockerfile(t).env {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "LETHE_") {
			if _, ok := known[k]; !ok {
				t.Errorf("deploy/Dockerfile: ENV %s, which lethe does not read", k)
			}
		}
	}

	// Without the secrets compose refuses to start, naming the first.
	if _, err := loadCompose(raw, composeSecrets[:1]); err == nil || !strings.Contains(err.Error(), "set LETHE_SUBJECT_KEY") {
		t.Errorf("compose.yaml without LETHE_SUBJECT_KEY: %v; want an error asking for it", err)
	}

	for _, tc := range []struct{ name, old, new, want string }{
		{"unknown key", "read_only: true", "readonly: true", "readonly"},
		{"unknown env var", "LETHE_EXPORT_URL: file", "LETHE_EXPORTS_URL: file", "LETHE_EXPORTS_URL, which lethe does not read"},
		{"wrong port", `"127.0.0.1:8080:8080"`, `"127.0.0.1:8080:8081"`, "no port publishes 8080"},
		{"published to all", `"127.0.0.1:8080:8080"`, `"8080:8080"`, "keep it on 127.0.0.1"},
		{"healthcheck flag", `["CMD", "/lethe", "healthcheck"]`, `["CMD", "/lethe", "healthcheck", "--adr=x"]`, "--adr=x, which lethe healthcheck does not define"},
		{"healthcheck command", `["CMD", "/lethe", "healthcheck"]`, `["CMD", "/lethe", "health"]`, `no command "health"`},
		{"shell healthcheck", `["CMD", "/lethe", "healthcheck"]`, `["CMD-SHELL", "curl -f localhost:8080/healthz"]`, "the image has no shell"},
		{"writable root", "read_only: true", "read_only: false", "read_only is not true"},
		{"no tmpfs", "tmpfs:\n      - /tmp", "tmpfs:\n      - /run", "/tmp is not writable"},
		{"not waiting for the state", "postgres:\n        condition: service_healthy", "postgres:\n        condition: service_started", "does not wait for"},
		{"hard-coded state password", "postgres://lethe:${LETHE_STATE_PASSWORD:?set LETHE_STATE_PASSWORD}@", "postgres://lethe:lethe@", "password is not taken from LETHE_STATE_PASSWORD"},
		{"registry variable unset", "APP_DATABASE_URL: postgres", "APP_DB_URL: postgres", "APP_DATABASE_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !bytes.Contains(raw, []byte(tc.old)) {
				t.Fatalf("compose.yaml holds no %q", tc.old)
			}
			err := checkCompose(bytes.Replace(raw, []byte(tc.old), []byte(tc.new), 1), srv, healthy)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want one saying %q", err, tc.want)
			}
		})
	}
}

// freshPostgresDatabase creates a database of its own on the real
// Postgres, as the postgres image's first start does (extensions live per
// database, so a schema would not do), dropped when t ends.
func freshPostgresDatabase(t *testing.T) string {
	t.Helper()
	admin, err := sql.Open("pgx", testdb.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("lethe_compose_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", testdb.PostgresURL())
		if err == nil {
			defer a.Close()
			_, err = a.Exec("DROP DATABASE " + name + " WITH (FORCE)")
		}
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(testdb.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// TestComposeAppSchema creates the application's tables as compose.yaml's
// app-db does on its first start (the files it mounts into
// /docker-entrypoint-initdb.d), on the real Postgres, and runs lethe
// config check with the registry compose mounts into Lethe: it passes.
func TestComposeAppSchema(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(composeDir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := loadCompose(raw, composeSecrets)
	if err != nil {
		t.Fatal(err)
	}
	dsn := freshPostgresDatabase(t)
	store, err := sqlstore.Open("app", registry.DriverPostgres, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var inits int
	for _, v := range p.Services["app-db"].Volumes {
		if !strings.HasPrefix(v.Target, "/docker-entrypoint-initdb.d/") {
			continue
		}
		sql, err := os.ReadFile(v.Source)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.DB().Exec(string(sql)).Error; err != nil {
			t.Fatalf("%s: %v", v.Source, err)
		}
		inits++
	}
	if inits == 0 {
		t.Fatal("service app-db mounts no file into /docker-entrypoint-initdb.d")
	}

	// The registry as Lethe's container sees it, its folders moved under
	// a temporary root standing for the volumes.
	lethe := p.Services["lethe"]
	cfg := *lethe.Environment["LETHE_CONFIG"]
	root := t.TempDir()
	var regRaw []byte
	for _, v := range lethe.Volumes {
		if v.Target == cfg {
			if regRaw, err = os.ReadFile(v.Source); err != nil {
				t.Fatal(err)
			}
		} else if err := os.MkdirAll(filepath.Join(root, v.Target), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	regRaw = regexp.MustCompile(`file://(/[^"\s]*)`).ReplaceAll(regRaw, []byte("file://"+root+"$1"))
	regPath := filepath.Join(root, "lethe.yaml")
	if err := os.WriteFile(regPath, regRaw, 0o600); err != nil {
		t.Fatal(err)
	}
	appDSN, err := url.Parse(*lethe.Environment["APP_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	if appDSN.Hostname() != "app-db" {
		t.Fatalf("APP_DATABASE_URL names %s; want the app-db service", appDSN.Hostname())
	}
	s := &demoServer{stateURL: "sqlite://" + filepath.Join(root, "state.db")}
	out, errOut, code := s.letheBare(t, []string{"APP_DATABASE_URL=" + dsn}, "config", "check", "--config", regPath)
	if code != 0 || !strings.Contains(out, "ok (2 stores, 5 collections, 0 warnings") {
		t.Fatalf("lethe config check: exit %d\n%s%s", code, out, errOut)
	}
}
