package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/retention"
)

// TestBarEndsItsLine: on a terminal the bar counts rows and files against
// the total, names the collection that moved, and ends its line before
// the summary.
func TestBarEndsItsLine(t *testing.T) {
	var b bytes.Buffer
	total := sweepTally{order: []string{"app.chats", "app.uploads"},
		rows: map[string]int64{"app.chats": 3, "app.uploads": 2}, files: map[string]int64{"app.uploads": 2}}
	p := newBarProgress(&b, total)
	p.update(&retention.Run{Counts: []retention.Count{{Collection: "app.chats", RowsPurged: 3}}})
	p.update(&retention.Run{Counts: []retention.Count{{Collection: "app.chats", RowsPurged: 3},
		{Collection: "app.uploads", RowsPurged: 2, FilesPurged: 2}}})
	p.finish()
	printRun(&b, &retention.Run{ID: "r1", Status: retention.StatusCompleted})
	out := b.String()
	for _, want := range []string{"app.uploads", "7/7", "\r"} {
		if !strings.Contains(out, want) {
			t.Errorf("bar output lacks %q: %q", want, out)
		}
	}
	if !strings.Contains(out, "\nretention run r1: completed") {
		t.Errorf("the summary does not start a line of its own: %q", out)
	}
	last := out[strings.LastIndex(out, "\r")+1:]
	if !strings.Contains(last, "\n") {
		t.Errorf("the bar's last frame does not end its line: %q", last)
	}
}
