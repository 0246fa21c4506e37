package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/retention"
)

// TestSettingsRoundTrip: the document GET returns goes back with PUT with
// one field changed; its read-only fields (tenant, updated_at, updated_by)
// are ignored when unchanged and refused when changed.
func TestSettingsRoundTrip(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		withRetention(t, b)
		_, calm := b.tenantKey(t, "calm-mind")
		path := "/v1/tenants/calm-mind/settings"
		// edit reads the settings as a client would and changes one field.
		edit := func(field string, value any) (map[string]any, string) {
			t.Helper()
			doc := decode[map[string]any](t, b.do(t, "GET", path, calm, ""), http.StatusOK)
			doc[field] = value
			out, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			return doc, string(out)
		}

		// Never set: updated_at is null and goes back as null.
		first, body := edit("obfuscate_history", true)
		if first["updated_at"] != nil || first["tenant"] != "calm-mind" {
			t.Fatalf("settings never set: %v", first)
		}
		got := decode[retention.Settings](t, b.do(t, "PUT", path, calm, body), http.StatusOK)
		if !got.ObfuscateHistory || got.UpdatedAt == nil {
			t.Fatalf("PUT of the GET document with obfuscate_history changed: %+v", got)
		}

		// Set once: every field as read, retention changed.
		b.clock.Advance(time.Minute)
		_, body = edit("retention", map[string]string{"app.chats": "7d"})
		got = decode[retention.Settings](t, b.do(t, "PUT", path, calm, body), http.StatusOK)
		if got.Retention["app.chats"] != "1w" || !got.ObfuscateHistory || !got.CollectResponses {
			t.Fatalf("second round trip: %+v", got)
		}
		// And again, unchanged but for retention's own spelling as stored.
		b.clock.Advance(time.Minute)
		_, body = edit("retention", map[string]string{"app.chats": "1w", "app.uploads": "1d"})
		if got = decode[retention.Settings](t, b.do(t, "PUT", path, calm, body), http.StatusOK); got.Retention["app.uploads"] != "1d" {
			t.Fatalf("third round trip: %+v", got)
		}

		for _, tc := range []struct {
			field  string
			value  any
			status int
			code   string
		}{
			{"tenant", "career-coach", http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE},
			{"updated_by", "admin", http.StatusUnprocessableEntity, dsr.EUNPROCESSABLE},
			{"updated_at", "2020-01-01T00:00:00Z", http.StatusConflict, dsr.ECONFLICT},
			{"updated_at", nil, http.StatusConflict, dsr.ECONFLICT},
			{"updated_at", "yesterday", http.StatusBadRequest, dsr.EINVALID},
		} {
			_, body := edit(tc.field, tc.value)
			before := decode[retention.Settings](t, b.do(t, "GET", path, calm, ""), http.StatusOK)
			msg := wantError(t, b.do(t, "PUT", path, calm, strings.Replace(body, `"obfuscate_history":true`, `"obfuscate_history":false`, 1)), tc.status, tc.code)
			if !strings.Contains(msg, tc.field) {
				t.Errorf("%s changed: message %q does not name the field", tc.field, msg)
			}
			if after := decode[retention.Settings](t, b.do(t, "GET", path, calm, ""), http.StatusOK); !after.ObfuscateHistory ||
				!after.UpdatedAt.Equal(*before.UpdatedAt) {
				t.Errorf("%s changed: the refused PUT changed the settings to %+v", tc.field, after)
			}
		}
		// A document read before someone else's change is refused whole.
		_, stale := edit("obfuscate_history", false)
		b.clock.Advance(time.Minute)
		decode[retention.Settings](t, b.do(t, "PUT", path, adminToken, `{"retention":{}}`), http.StatusOK)
		wantError(t, b.do(t, "PUT", path, calm, stale), http.StatusConflict, dsr.ECONFLICT)
	})
}
