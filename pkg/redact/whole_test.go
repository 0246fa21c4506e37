package redact

import "testing"

func TestWholeReplacesDeclaredValueOnce(t *testing.T) {
	r, err := NewRedactor([]byte("0123456789abcdef-whole"), "career-coach")
	if err != nil {
		t.Fatal(err)
	}
	got, ok := r.Whole(Name, "Grace Hopper")
	if !ok || got != r.Pseudonym(Name, "grace  HOPPER") || got[:6] != "<name:" {
		t.Fatalf("Whole(name, Grace Hopper) = %q, %v; want the name pseudonym, shared by the normalised form", got, ok)
	}
	if again, ok := r.Whole(Name, got); ok || again != got {
		t.Errorf("Whole of a pseudonym = %q, %v; want it unchanged", again, ok)
	}
	if v, ok := r.Whole(Email, "  "); ok || v != "  " {
		t.Errorf("Whole of a blank value = %q, %v; want it unchanged", v, ok)
	}
	if e, _ := r.Whole(Email, "Grace@Example.com"); e != r.Pseudonym(Email, "grace@example.com") {
		t.Errorf("Whole(email) = %q; want the detector's pseudonym of the address", e)
	}
}
