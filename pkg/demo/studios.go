package demo

import "github.com/lethe-privacy/lethe/dsr"

// studioProfiles are the Lethe profiles of the demo's studios, by id; every
// studio in studios has one (TestStudiosHaveProfiles).
var studioProfiles = map[string]dsr.Tenant{
	"career-coach": {LegalName: "Career Coach Ltd", PrivacyContact: "privacy@career-coach.example.com",
		OwnerEmails: []string{"owner@career-coach.example.com"}, BrandColor: "#1f6feb"},
	"calm-mind": {LegalName: "Calm Mind Practice GmbH", PrivacyContact: "datenschutz@calm-mind.example.com",
		OwnerEmails: []string{"owner@calm-mind.example.com"}, BrandColor: "#2e7d32", Language: "de"},
}

// Studios returns the demo's studios as Lethe registers them (`lethe serve
// --demo` does, at start): slug and display name as in the application's
// studios table, with a controller, privacy contact, owner and colour.
func Studios() []dsr.Tenant {
	out := make([]dsr.Tenant, 0, len(studios))
	for _, st := range studios {
		p := studioProfiles[st.id]
		p.Slug, p.DisplayName = st.id, st.name
		p.OwnerEmails = append([]string(nil), p.OwnerEmails...)
		out = append(out, p)
	}
	return out
}
