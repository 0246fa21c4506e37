package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // the anchor is a folder on disk here

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/anchor"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// TestAuditVerifyAgainstCheckpoints: GET /v1/audit/verify checks the
// chain against the signed checkpoints in the anchor bucket, so removing
// the last entries and moving the head back (which the chain alone does
// not show) answers ok false with the missing entries named.
func TestAuditVerifyAgainstCheckpoints(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		bucket, err := blob.OpenBucket(ctx, "file://"+t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer bucket.Close()
		key, err := dsr.ParseAuditKey(strings.Repeat("ab", 32))
		if err != nil {
			t.Fatal(err)
		}
		audit := b.srv.Audit.(*state.AuditLog)
		audit.Anchor = &state.Anchor{Store: &anchor.Store{Bucket: bucket}, Key: key}
		for _, email := range []string{"ada@example.com", "grace@example.com", "alan@example.com"} {
			b.fileRequest(t, adminToken, "erasure", email, "")
		}
		if _, err := audit.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		v := decode[map[string]any](t, b.do(t, "GET", "/v1/audit/verify", adminToken, ""), http.StatusOK)
		if v["ok"] != true || v["anchored"] != true || v["checkpoint"].(map[string]any)["seq"] != float64(3) {
			t.Fatalf("untouched chain: %v", v)
		}
		for _, q := range []string{"DELETE FROM lethe_audit WHERE seq > 1",
			"UPDATE lethe_audit_head SET seq = 1, hash = (SELECT hash FROM lethe_audit WHERE seq = 1) WHERE id = 1"} {
			if err := b.db.Gorm.Exec(q).Error; err != nil {
				t.Fatal(err)
			}
		}
		v = decode[map[string]any](t, b.do(t, "GET", "/v1/audit/verify", adminToken, ""), http.StatusOK)
		if v["ok"] != false || v["bad_seq"] != float64(2) || v["bad_to"] != float64(3) || !strings.Contains(v["problem"].(string), "missing") {
			t.Errorf("truncated chain: %v; want entries 2 to 3 named missing", v)
		}
	})
}
