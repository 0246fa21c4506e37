package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/selfservice"
)

// TestPrivacyPageLanguage: the page speaks the language the person
// chose, else their browser's, else the studio's default; an unknown
// studio is a 404 page saying so, and /privacy lists the studios by name.
func TestPrivacyPageLanguage(t *testing.T) {
	t.Parallel()
	b := setupSelf(t, "sqlite", selfservice.Limits{})
	r := b.do(t, "PUT", "/v1/tenants/calm-mind", adminToken, `{"display_name":"Calm Mind","language":"de","brand_color":"#2e7d32"}`)
	if r.status != http.StatusOK {
		t.Fatalf("PUT language: %d %s", r.status, r.body)
	}
	if r := b.do(t, "PUT", "/v1/tenants/calm-mind", adminToken, `{"language":"German"}`); r.status != http.StatusUnprocessableEntity {
		t.Errorf("PUT a language that is no tag: %d", r.status)
	}
	for _, c := range []struct {
		name, path, accept, lang string
		want                     []string
	}{
		{"browser", "/privacy/career-coach", "de-DE,de;q=0.9", "de", []string{"Ihre Daten bei career-coach", "Meine Daten herunterladen"}},
		{"studio default", "/privacy/calm-mind", "ja", "de", []string{"Ihre Daten bei Calm Mind", ".band,button{background:#2e7d32;color:#ffffff}"}},
		{"browser beats studio", "/privacy/calm-mind", "en-GB", "en", []string{"Your data at Calm Mind"}},
		{"switch beats browser", "/privacy/calm-mind?lang=en", "de", "en", []string{"Your data at Calm Mind", `hreflang="de"`}},
	} {
		r := b.do(t, "GET", c.path, "", "", "Accept-Language", c.accept)
		page := string(r.body)
		if r.status != http.StatusOK || !strings.Contains(page, `<html lang="`+c.lang+`">`) {
			t.Errorf("%s: %d, want lang %s: %s", c.name, r.status, c.lang, page)
		}
		for _, w := range c.want {
			if !strings.Contains(page, w) {
				t.Errorf("%s: the page lacks %q", c.name, w)
			}
		}
	}
	r = b.do(t, "GET", "/privacy/nobody-registered-this", "", "")
	if r.status != http.StatusNotFound || !strings.Contains(string(r.body), "We do not know this studio") {
		t.Errorf("unknown studio: %d %s", r.status, r.body)
	}
	r = b.do(t, "GET", "/privacy", "", "")
	if !strings.Contains(string(r.body), `<a href="/privacy/calm-mind?lang=en">Calm Mind</a>`) {
		t.Errorf("/privacy does not list Calm Mind by name: %s", r.body)
	}
}
