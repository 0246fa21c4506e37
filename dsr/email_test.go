package dsr

import (
	"strings"
	"testing"
)

// TestNormalizeEmail: the domain is lower-cased and the local part kept;
// what is not one plain address is refused without repeating it.
func TestNormalizeEmail(t *testing.T) {
	for _, tc := range []struct {
		raw, want string // want "" for refused
	}{
		{"  Ada@Example.COM ", "Ada@example.com"},
		{"grace@example.com", "grace@example.com"},
		{`q'u%o_t\e@example.com`, ""}, // a backslash is not plain
		{"Ada Lovelace <ada@example.com>", ""},
		{"ada@example.com (work)", ""},
		{"ada@localhost", ""},
		{"ada@.example.com", ""},
		{"ada@example.com.", ""},
		{"ada@[127.0.0.1]", ""},
		{"", ""},
		{"   ", ""},
		{strings.Repeat("a", 250) + "@example.com", ""},
	} {
		got, err := NormalizeEmail(tc.raw)
		if tc.want != "" {
			if err != nil || got != tc.want {
				t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tc.raw, got, err, tc.want)
			}
			continue
		}
		if ErrorCode(err) != EUNPROCESSABLE {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %s", tc.raw, got, err, EUNPROCESSABLE)
		} else if tc.raw != "" && strings.TrimSpace(tc.raw) != "" && strings.Contains(err.Error(), strings.TrimSpace(tc.raw)) {
			t.Errorf("the error for %q repeats the address: %v", tc.raw, err)
		}
	}
}

// TestFoldEmail: every script folds to lower case and the Greek final
// sigma to σ, so that two spellings of one address are one; the dotless ı
// stays apart from i.
func TestFoldEmail(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"Ada@Example.com", "ada@example.com", true},
		{"ÄRGER@example.de", "ärger@example.de", true},
		{"ДМИТРИЙ@example.ru", "дмитрий@example.ru", true},
		{"ΟΔΥΣΣΕΥΣ@example.gr", "οδυσσευς@example.gr", true},
		{"ΟΔΥΣΣΕΥΣ@example.gr", "οδυσσευσ@example.gr", true},
		{"ılgın@example.tr", "ilgin@example.tr", false},
		{"ada@example.com", "ada2@example.com", false},
	} {
		if got := FoldEmail(tc.a) == FoldEmail(tc.b); got != tc.same {
			t.Errorf("FoldEmail(%q) == FoldEmail(%q) is %v; want %v (%q, %q)", tc.a, tc.b, got, tc.same, FoldEmail(tc.a), FoldEmail(tc.b))
		}
	}
	if got := FoldEmail("ΟΔΥΣΣΕΥΣ@example.gr"); strings.ContainsRune(got, 'ς') {
		t.Errorf("FoldEmail keeps a final sigma: %q", got)
	}
}
