package demo

import (
	_ "embed"
	"net/url"
	"path/filepath"
	"strings"
)

//go:embed lethe.yaml
var registryTemplate string

// Registry returns the demo application's lethe.yaml: the sql store "app"
// reads the path of app.db from the environment variable dbPathEnv, and the
// blob store "uploads" points at uploadsDir (made absolute). The result
// parses with registry.Parse; the README tour erases a demo user with it.
func Registry(dbPathEnv, uploadsDir string) []byte {
	abs, err := filepath.Abs(uploadsDir)
	if err != nil {
		abs = uploadsDir
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	return []byte(strings.NewReplacer("{{DSN_ENV}}", dbPathEnv, "{{UPLOADS_URL}}", u.String()).Replace(registryTemplate))
}

// Registry returns the registry of this seeded demo; see the package-level
// Registry.
func (d *Demo) Registry(dbPathEnv string) []byte { return Registry(dbPathEnv, d.UploadsDir) }
