package export

import "testing"

// TestRowJSONDocuments: documents held as text reach the package as JSON:
// in a declared JSON column any value, unwrapped when encoded twice; in
// another column an object or array, while other text stays a string.
func TestRowJSONDocuments(t *testing.T) {
	enc := newRowEncoder([]string{"doc", "meta", "note", "num"}, map[string]bool{"doc": true})
	js, _ := enc.row([]any{`"{\"a\":{\"b\":1}}"`, []byte(` {"k":[1,2]} `), "[redacted]", "42"})
	want := `{"doc":{"a":{"b":1}},"meta":{"k":[1,2]},"note":"[redacted]","num":"42"}`
	if string(js) != want {
		t.Errorf("row = %s\nwant  %s", js, want)
	}
	js, _ = enc.row([]any{`"just text"`, "{not json", `"q"`, nil})
	want = `{"doc":"just text","meta":"{not json","note":"\"q\"","num":null}`
	if string(js) != want {
		t.Errorf("row = %s\nwant  %s", js, want)
	}
}
