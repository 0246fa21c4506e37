package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"

	"github.com/lethe-privacy/lethe/pkg/demo"
)

// demoDSNEnv is the variable the demo registry reads its database path from;
// lethe serve --demo fills it in, other commands take it from the environment.
const demoDSNEnv = "DEMO_APP_DB"

// prepareDemo seeds the demo application in dir and returns cfg with what
// a newcomer has not set filled in: an admin token (printed once), a
// subject key and an export key kept in the demo folder so that restarts
// hash subjects alike, the demo's exports folder and registry; and the
// getenv that resolves the demo registry's database variable.
func prepareDemo(ctx context.Context, cfg Config, dir string, stdout io.Writer, getenv func(string) string) (Config, func(string) string, error) {
	d, err := demo.Seed(ctx, dir)
	if err != nil {
		return cfg, nil, fmt.Errorf("demo: %w", err)
	}
	if cfg.SubjectKey == "" {
		if cfg.SubjectKey, err = demoSecret(filepath.Join(dir, "subject.key")); err != nil {
			return cfg, nil, err
		}
	}
	if cfg.ExportKey == "" {
		if cfg.ExportKey, err = demoSecret(filepath.Join(dir, "export.key")); err != nil {
			return cfg, nil, err
		}
	}
	if cfg.AuditKey == "" {
		if cfg.AuditKey, err = demoSecret(filepath.Join(dir, "audit.key")); err != nil {
			return cfg, nil, err
		}
	}
	if cfg.ExportURL == "" {
		abs, err := filepath.Abs(filepath.Join(dir, "exports"))
		if err != nil {
			return cfg, nil, fmt.Errorf("demo: %w", err)
		}
		cfg.ExportURL = (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
	}
	if cfg.AdminToken == "" {
		cfg.AdminToken = randomHex(24)
		fmt.Fprintf(stdout, "demo admin token (shown once): %s\n", cfg.AdminToken)
	}
	if cfg.Registry == "" {
		cfg.Registry = filepath.Join(dir, "lethe.yaml")
		if err := os.WriteFile(cfg.Registry, d.Registry(demoDSNEnv), 0o600); err != nil {
			return cfg, nil, fmt.Errorf("demo: write registry: %w", err)
		}
		getenv = demoGetenv(d.DBPath, getenv)
	}
	fmt.Fprintf(stdout, "demo application: %s (%d users; emails in README.md)\n", d.DBPath, len(d.Users))
	return cfg, getenv, nil
}

// demoGetenv resolves the demo registry's DSN variable to the seeded
// database unless it is set, and every other name through getenv.
func demoGetenv(dbPath string, getenv func(string) string) func(string) string {
	return func(k string) string {
		if v := getenv(k); v != "" || k != demoDSNEnv {
			return v
		}
		return dbPath
	}
}

func demoSecret(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) >= minSubjectKey {
		return string(b), nil
	}
	key := randomHex(32)
	if err := os.WriteFile(path, []byte(key), 0o600); err != nil {
		return "", fmt.Errorf("demo: write %s: %w", filepath.Base(path), err)
	}
	return key, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
