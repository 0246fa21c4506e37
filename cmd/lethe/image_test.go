package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// dockerfileStage is what the last stage of deploy/Dockerfile gives the
// running container.
type dockerfileStage struct {
	uid, gid    int
	workdir     string
	env         []string // KEY=VALUE, in order
	entrypoint  []string
	cmd         []string
	healthcheck []string
	owned       []string // folders copied in owned by the user (COPY --chown)
}

// readDockerfile reads the last stage of deploy/Dockerfile: its lines
// joined at trailing backslashes, its instructions in exec form.
func readDockerfile(t *testing.T) dockerfileStage {
	t.Helper()
	raw, err := os.ReadFile("../../deploy/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var st dockerfileStage
	var line string
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	execForm := func(what, s string) []string {
		var argv []string
		if err := json.Unmarshal([]byte(strings.TrimSpace(s)), &argv); err != nil {
			t.Fatalf("deploy/Dockerfile: %s %s: not the exec form (the image has no shell): %v", what, s, err)
		}
		return argv
	}
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasSuffix(l, "\\") {
			line += strings.TrimSuffix(l, "\\") + " "
			continue
		}
		line += l
		instr, rest, _ := strings.Cut(line, " ")
		line = ""
		switch instr {
		case "FROM":
			st = dockerfileStage{}
		case "USER":
			u, g, _ := strings.Cut(rest, ":")
			if st.uid, err = strconv.Atoi(u); err != nil || st.uid == 0 {
				t.Fatalf("deploy/Dockerfile: USER %s: want a numeric user other than root", rest)
			}
			if st.gid, err = strconv.Atoi(g); err != nil {
				t.Fatalf("deploy/Dockerfile: USER %s: want uid:gid", rest)
			}
		case "WORKDIR":
			st.workdir = rest
		case "ENV":
			st.env = append(st.env, strings.Fields(rest)...)
		case "ENTRYPOINT":
			st.entrypoint = execForm(instr, rest)
		case "CMD":
			st.cmd = execForm(instr, rest)
		case "HEALTHCHECK":
			_, c, ok := strings.Cut(rest, "CMD ")
			if !ok {
				t.Fatalf("deploy/Dockerfile: HEALTHCHECK %s: no CMD", rest)
			}
			st.healthcheck = execForm(instr, c)
		case "COPY":
			f := strings.Fields(rest)
			if strings.Contains(rest, "--chown=") && len(f) > 0 {
				st.owned = append(st.owned, f[len(f)-1])
			}
		}
	}
	if len(st.entrypoint) == 0 || len(st.healthcheck) == 0 || st.workdir == "" {
		t.Fatalf("deploy/Dockerfile: ENTRYPOINT %v, HEALTHCHECK %v, WORKDIR %q", st.entrypoint, st.healthcheck, st.workdir)
	}
	return st
}

// TestImageRunsReadOnly runs the binary as deploy/Dockerfile's image
// would: in a root of its own that holds only the binary, mounted
// read-only, as the image's user, with its ENV and WORKDIR, a tmpfs on
// /tmp and a volume on the state folder. An access request (spooled in
// /tmp, stored in the exports) and an erasure (deleting an upload)
// complete, and the image's HEALTHCHECK passes. It needs root (mounts in
// a mount namespace of its own, chroot), as CI has.
func TestImageRunsReadOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts a read-only root in a mount namespace")
	}
	st := readDockerfile(t)
	if len(st.owned) != 1 {
		t.Fatalf("deploy/Dockerfile: folders copied for the user: %v; want the state folder", st.owned)
	}
	volume := st.owned[0]
	root, data := t.TempDir(), t.TempDir()
	// The image's root: the binary, the user, the mount points.
	for _, d := range []string{"etc", "tmp", volume, st.workdir} { // docker creates WORKDIR
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, st.entrypoint[0]), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", st.uid, st.gid)
	if err := os.WriteFile(filepath.Join(root, "etc", "passwd"), []byte(passwd), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(data, st.uid, st.gid); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	env := append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, st.env...)
	env = append(env, "LETHE_ADDR=0.0.0.0:"+port) // the image's port may be taken here
	// unshare --root --wd --setuid --setgid is what a container runtime
	// does last: the root, the WORKDIR, the USER (no other group).
	asImage := []string{"--root", root, "--setuid", strconv.Itoa(st.uid), "--setgid", strconv.Itoa(st.gid)}
	contained := func(ctx context.Context, args ...string) *exec.Cmd {
		script := `set -e
mount --bind "$1" "$1"
mount -o remount,bind,ro "$1"
mount -t tmpfs -o mode=1777 tmpfs "$1/tmp"
mount --bind "$2" "$1$3"
shift 3
exec unshare "$@"`
		cmd := exec.CommandContext(ctx, "unshare", append(append([]string{"-m", "--propagation", "private", "sh", "-c", script, "sh",
			root, data, volume, "--wd", st.workdir}, asImage...), args...)...)
		cmd.Env = env
		return cmd
	}

	// Writing outside the volumes fails: the root is read-only indeed.
	// (A serve that could write would run: it is stopped.)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ro := contained(ctx, append(st.entrypoint, "serve", "--demo", "--database-url", "sqlite:///state.db")...)
	out, _ := ro.CombinedOutput()
	if !strings.Contains(string(out), "read-only file system") {
		t.Fatalf("lethe serve writing its state to / in the read-only root: %s; want a read-only file system", out)
	}

	s := &demoServer{stderr: &testkit.Buffer{}, dir: filepath.Join(data, "demo")}
	s.cmd = contained(context.Background(), append(append(st.entrypoint, st.cmd...), "--demo", "--demo-dir", volume+"/demo")...)
	s.start(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("lethe serve's log:\n%s", s.stderr.String())
		}
	})
	s.base = "http://127.0.0.1:" + port

	// An access request: spooled in /tmp, stored under the exports.
	code, raw := s.send(t, s.token, "POST", "/v1/requests", `{"type":"access","email":"grace@example.com"}`)
	var r struct{ ID string }
	if json.Unmarshal(raw, &r); code != http.StatusAccepted || r.ID == "" {
		t.Fatalf("file access: %d %s", code, raw)
	}
	if status := s.waitDone(t, s.token, r.ID); status != "completed" {
		_, raw := s.send(t, s.token, "GET", "/v1/requests/"+r.ID, "")
		t.Fatalf("access request %s in the read-only image; want completed: %s\nlog:\n%s", status, raw, s.stderr.String())
	}
	code, pkg := s.send(t, s.token, "GET", "/v1/requests/"+r.ID+"/export", "")
	if code != http.StatusOK || len(pkg) < 100 {
		t.Fatalf("download: %d, %d bytes", code, len(pkg))
	}
	// An erasure: Ada's uploaded CV is deleted from the volume.
	cv := uploadHolding(t, filepath.Join(data, "demo", "uploads"), "Ada Lovelace")
	if cv == "" {
		t.Fatal("no upload of Ada's in the demo")
	}
	code, raw = s.send(t, s.token, "POST", "/v1/requests", `{"type":"erasure","email":"ada@example.com"}`)
	if json.Unmarshal(raw, &r); code != http.StatusAccepted {
		t.Fatalf("file erasure: %d %s", code, raw)
	}
	if status := s.waitDone(t, s.token, r.ID); status != "completed" {
		t.Fatalf("erasure %s in the read-only image; log:\n%s", status, s.stderr.String())
	}
	if _, err := os.Stat(cv); !os.IsNotExist(err) {
		t.Errorf("Ada's upload %s: %v; want it deleted", cv, err)
	}
	// The image's state file landed on the volume, at the path the
	// backup and restore commands of deploy/README.md name.
	if _, err := os.Stat(filepath.Join(data, "lethe.db")); err != nil {
		t.Errorf("the SQLite state is not on the volume: %v", err)
	}

	// The image's HEALTHCHECK, as Docker runs it: the exec form, no shell.
	hc := exec.Command("unshare", append(asImage, st.healthcheck...)...)
	hc.Env = env
	if out, err := hc.CombinedOutput(); err != nil || !strings.Contains(string(out), "answered 200") {
		t.Errorf("HEALTHCHECK %v in the image's root: %v\n%s", st.healthcheck, err, out)
	}
}
