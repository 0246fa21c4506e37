package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestHealthcheckAgainstServe runs the binary's healthcheck, as the image's
// HEALTHCHECK does, against a real lethe serve listening on every
// interface (reached on 127.0.0.1), then after it stopped.
func TestHealthcheckAgainstServe(t *testing.T) {
	s := startDemo(t, "--addr", "0.0.0.0:0")
	u, err := url.Parse(s.base)
	if err != nil {
		t.Fatal(err)
	}
	_, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"0.0.0.0:" + port, ":" + port, "[::]:" + port, "127.0.0.1:" + port} {
		stdout, stderr, code := s.letheBare(t, []string{"LETHE_ADDR=" + addr}, "healthcheck")
		if code != 0 || !strings.Contains(stdout, "http://127.0.0.1:"+port+"/healthz answered 200") {
			t.Errorf("LETHE_ADDR=%s: healthcheck exit %d, stdout %q, stderr %q; want 0 and 200 from 127.0.0.1", addr, code, stdout, stderr)
		}
	}
	// The flag beats the variable.
	if _, stderr, code := s.letheBare(t, []string{"LETHE_ADDR=127.0.0.1:1"}, "healthcheck", "--addr", "0.0.0.0:"+port); code != 0 {
		t.Errorf("--addr over a wrong LETHE_ADDR: exit %d, %s", code, stderr)
	}

	s.cmd.Process.Kill()
	s.cmd.Wait()
	_, stderr, code := s.letheBare(t, []string{"LETHE_ADDR=0.0.0.0:" + port}, "healthcheck")
	if code != 1 || !strings.Contains(stderr, "connection refused") {
		t.Errorf("nothing listening: exit %d, stderr %q; want 1 and the refused connection", code, stderr)
	}
}

// TestHealthcheckFails: every way the check fails exits 1 (Docker reserves
// 2), and a server that answers something else than 200 is unhealthy.
func TestHealthcheckFails(t *testing.T) {
	var paths []string
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer sick.Close()
	addr := strings.TrimPrefix(sick.URL, "http://")
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"503", map[string]string{"LETHE_ADDR": addr}, nil, "503 Service Unavailable"},
		{"no port", nil, []string{"--addr", "localhost"}, `"localhost": give the HOST:PORT`},
		{"port 0", map[string]string{"LETHE_ADDR": "127.0.0.1:0"}, nil, "give the HOST:PORT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tc.env, append([]string{"healthcheck"}, tc.args...)...)
			if code != 1 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr, tc.want)
			}
		})
	}
	if len(paths) != 1 || paths[0] != "/healthz" {
		t.Errorf("the sick server saw %v; want one GET /healthz", paths)
	}
}
