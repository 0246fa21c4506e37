package main

import (
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/lethe-privacy/lethe/retention"
)

// sweepTally is what a sweep did, or is to do, per collection: rows
// (purged, anonymised or redacted) and files (deleted or pending), in the
// order of the run's counts.
type sweepTally struct {
	order       []string
	rows, files map[string]int64
}

// tallyOf sums a run's counts per collection.
func tallyOf(r *retention.Run) sweepTally {
	t := sweepTally{rows: map[string]int64{}, files: map[string]int64{}}
	for _, c := range r.Counts {
		if _, ok := t.rows[c.Collection]; !ok {
			t.order = append(t.order, c.Collection)
		}
		t.rows[c.Collection] += c.RowsPurged + c.RowsAnonymized + c.RowsRedacted
		t.files[c.Collection] += c.FilesPurged + c.FilesPending
	}
	return t
}

// sum is every collection's rows and files together.
func (t sweepTally) sum() (rows, files int64) {
	for _, col := range t.order {
		rows, files = rows+t.rows[col], files+t.files[col]
	}
	return rows, files
}

// progress shows a sweep's progress against the total a count found
// first: update after every batch, finish before the summary.
type progress interface {
	update(r *retention.Run)
	finish()
}

// newProgress returns a bar redrawn in place when w is a terminal, and a
// plain line per change otherwise, so a redirected log holds no \r frames.
func newProgress(w io.Writer, total sweepTally) progress {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return newBarProgress(w, total)
	}
	p := &lineProgress{w: w, total: total, last: sweepTally{rows: map[string]int64{}, files: map[string]int64{}}}
	rows, files := total.sum()
	fmt.Fprintf(w, "retention: to sweep %d rows and %d files in %d collections\n", rows, files, len(total.order))
	for _, col := range total.order {
		fmt.Fprintf(w, "retention:   %s: %d rows, %d files\n", col, total.rows[col], total.files[col])
	}
	return p
}

// lineProgress writes one line for each collection whose counts moved.
type lineProgress struct {
	w           io.Writer
	total, last sweepTally
}

func (p *lineProgress) update(r *retention.Run) {
	now := tallyOf(r)
	for _, col := range now.order {
		if now.rows[col] == p.last.rows[col] && now.files[col] == p.last.files[col] {
			continue
		}
		fmt.Fprintf(p.w, "retention: %s: %d of %d rows, %d of %d files\n", col,
			now.rows[col], p.total.rows[col], now.files[col], p.total.files[col])
	}
	p.last = now
}

func (p *lineProgress) finish() {}

// barProgress is schollz/progressbar over rows and files together, named
// after the collection that moved last.
type barProgress struct {
	w    io.Writer
	bar  *progressbar.ProgressBar
	last sweepTally
	max  int64
}

func newBarProgress(w io.Writer, total sweepTally) *barProgress {
	rows, files := total.sum()
	p := &barProgress{w: w, max: max(rows+files, 1), last: sweepTally{rows: map[string]int64{}, files: map[string]int64{}}}
	p.bar = progressbar.NewOptions64(p.max,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("sweeping"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionSetRenderBlankState(true),
	)
	return p
}

func (p *barProgress) update(r *retention.Run) {
	now := tallyOf(r)
	for _, col := range now.order {
		if now.rows[col] != p.last.rows[col] || now.files[col] != p.last.files[col] {
			p.bar.Describe(col)
		}
	}
	p.last = now
	rows, files := now.sum()
	// A resumed run counts the batches of the run it resumes too.
	if done := rows + files; done > p.max {
		p.max = done
		p.bar.ChangeMax64(done)
	}
	_ = p.bar.Set64(rows + files)
}

// finish leaves the bar as it stands and ends its line, so that the
// summary starts on a line of its own.
func (p *barProgress) finish() {
	_ = p.bar.Exit()
	fmt.Fprintln(p.w)
}
