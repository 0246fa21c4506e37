package demo_test

import (
	"testing"

	"github.com/lethe-privacy/lethe/pkg/demo"
)

// TestStudiosHaveProfiles checks that every studio of the application is
// registered with a complete, valid profile.
func TestStudiosHaveProfiles(t *testing.T) {
	got := demo.Studios()
	want := [][2]string{{"career-coach", "Career Coach"}, {"calm-mind", "Calm Mind"}}
	if len(got) != len(want) {
		t.Fatalf("%d profiles, want %d", len(got), len(want))
	}
	for i, st := range got {
		if st.Slug != want[i][0] || st.DisplayName != want[i][1] {
			t.Errorf("profile %d is %s %q, want %s %q", i, st.Slug, st.DisplayName, want[i][0], want[i][1])
		}
		if st.LegalName == "" || st.PrivacyContact == "" || len(st.OwnerEmails) == 0 || st.BrandColor == "" {
			t.Errorf("profile of %s is incomplete: %+v", st.Slug, st)
		}
		if err := st.Validate(); err != nil {
			t.Errorf("profile of %s: %v", st.Slug, err)
		}
	}
}
