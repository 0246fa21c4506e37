package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/state"
)

// TestAuditAnchorCommands: the demo checkpoints its trail after an
// erasure; lethe audit pubkey prints the key that checks it, lethe audit
// export writes a file that lethe audit verify --file checks with that key
// alone, and once the end of the trail is cut off in the state store
// (head moved back, so the chain alone looks whole) lethe audit verify
// --pubkey names the missing entries and exits 1.
func TestAuditAnchorCommands(t *testing.T) {
	s := startDemo(t)
	var erasure struct{ ID string }
	s.call(t, "POST", "/v1/requests", `{"type":"erasure","email":"alan@example.com"}`, &erasure)
	if status := s.waitDone(t, s.token, erasure.ID); status != "completed" {
		t.Fatalf("erasure ended %s", status)
	}
	auditKey, err := os.ReadFile(filepath.Join(s.dir, "demo", "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	exportURL := "--export-url=file://" + filepath.Join(s.dir, "demo", "exports")
	out, code := s.lethe(t, "audit", "pubkey", "--audit-key", string(auditKey))
	pub := strings.TrimSpace(out)
	if code != 0 || len(pub) != 64 {
		t.Fatalf("audit pubkey: exit %d: %s", code, out)
	}
	file := filepath.Join(t.TempDir(), "trail.jsonl")
	if out, code := s.lethe(t, "audit", "export", "--out", file, "--audit-key", string(auditKey), exportURL); code != 0 {
		t.Fatalf("audit export: exit %d: %s", code, out)
	}
	if out, code := s.lethe(t, "audit", "verify", "--file", file, "--pubkey", pub); code != 0 || !strings.Contains(out, "signed checkpoint") {
		t.Fatalf("audit verify --file: exit %d: %s", code, out)
	}
	// Checking the chain needs no secret: neither LETHE_SUBJECT_KEY nor
	// LETHE_AUDIT_KEY, only the public key.
	if out, errOut, code := s.letheBare(t, nil, "audit", "verify", "--pubkey", pub, exportURL); code != 0 || !strings.Contains(out, "matches") {
		t.Fatalf("audit verify without any secret: exit %d: %s%s", code, out, errOut)
	}

	db, err := state.Open(context.Background(), s.stateURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DELETE FROM lethe_audit WHERE seq > 1",
		"UPDATE lethe_audit_head SET seq = 1, hash = (SELECT hash FROM lethe_audit WHERE seq = 1) WHERE id = 1"} {
		if _, err := db.SQL.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if out, _, code := s.letheBare(t, nil, "audit", "verify"); code != 0 {
		t.Fatalf("without a key the cut chain still looks whole (the attack checkpoints catch): exit %d: %s", code, out)
	}
	if out, _, code := s.letheBare(t, nil, "audit", "verify", "--pubkey", pub, exportURL); code != 1 || !strings.Contains(out, "BROKEN at entries 2 to") || !strings.Contains(out, "missing") {
		t.Fatalf("audit verify --pubkey on a cut chain: exit %d: %s", code, out)
	}
}
