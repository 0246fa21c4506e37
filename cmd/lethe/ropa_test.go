package main

import (
	"encoding/csv"
	"strings"
	"testing"
)

// TestRopaCommand runs lethe ropa on the Open WebUI registry in each
// format, and refuses an unknown format or a missing registry as usage.
func TestRopaCommand(t *testing.T) {
	const reg = "../../deploy/registries/open-webui.yaml"
	out, errOut, code := runCLI(t, nil, "ropa", "--config", reg)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(rows) < 10 || rows[0][0] != "purpose" || rows[1][0] != "service" {
		t.Fatalf("csv: exit %d, %v, %d rows; stderr %s", code, err, len(rows), errOut)
	}
	if out, _, code := runCLI(t, map[string]string{"LETHE_CONFIG": reg}, "ropa", "--format", "json"); code != 0 ||
		!strings.Contains(out, `"collection": "webui.chat"`) {
		t.Errorf("json: exit %d:\n%s", code, out)
	}
	if out, _, code := runCLI(t, nil, "ropa", "--config", reg, "--format", "html"); code != 0 ||
		!strings.Contains(out, "<h2 id=\"purpose-service\">Purpose: service</h2>") {
		t.Errorf("html: exit %d", code)
	}
	if _, _, code := runCLI(t, nil, "ropa", "--config", reg, "--format", "pdf"); code != 2 {
		t.Errorf("--format pdf: exit %d; want 2", code)
	}
	if _, _, code := runCLI(t, nil, "ropa"); code != 2 {
		t.Errorf("no registry: exit %d; want 2", code)
	}
}
