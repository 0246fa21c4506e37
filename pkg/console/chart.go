package console

import (
	"fmt"
	"slices"
)

// chart is an SVG bar chart drawn on the server: rows and files purged by
// each completed real sweep, oldest on the left. It needs no script and
// no style attribute (the CSP allows neither): colours are presentation
// attributes.
type chart struct {
	Width, Height int
	Bars          []bar
	Ticks         []tick
	Max           int64
	Empty         bool
}

type bar struct {
	X, Y, W, H int
	Kind       string // "rows" or "files"
	Label      string // the run, for the bar's title
}

type tick struct {
	X    int
	Text string
}

const (
	chartWidth, chartHeight = 640, 220
	chartLeft, chartBottom  = 48, 30
	chartRuns               = 20
)

// newChart draws the last chartRuns completed real runs of runs (newest
// first, as listed).
func newChart(runs []runSummary) *chart {
	var shown []runSummary
	for _, r := range runs {
		if r.Status == "completed" && !r.DryRun && len(shown) < chartRuns {
			shown = append(shown, r)
		}
	}
	slices.Reverse(shown)
	ch := &chart{Width: chartWidth, Height: chartHeight, Empty: len(shown) == 0}
	for _, r := range shown {
		ch.Max = max(ch.Max, r.Totals.RowsPurged+r.Totals.RowsAnonymized, r.Totals.FilesPurged)
	}
	if ch.Empty {
		return ch
	}
	plotH := chartHeight - chartBottom - 10
	slot := (chartWidth - chartLeft) / max(len(shown), 1)
	bw := min(max(slot/3, 2), 28)
	scale := func(n int64) int {
		if ch.Max == 0 {
			return 0
		}
		return int(int64(plotH) * n / ch.Max)
	}
	for i, r := range shown {
		x := chartLeft + i*slot + (slot-2*bw)/2
		when := r.CreatedAt.UTC().Format("2 Jan 15:04")
		rows := r.Totals.RowsPurged + r.Totals.RowsAnonymized
		for j, b := range []struct {
			kind string
			n    int64
		}{{"rows", rows}, {"files", r.Totals.FilesPurged}} {
			h := scale(b.n)
			ch.Bars = append(ch.Bars, bar{X: x + j*bw, Y: chartHeight - chartBottom - h, W: bw, H: h, Kind: b.kind,
				Label: fmt.Sprintf("%s: %d %s", when, b.n, b.kind)})
		}
		if i == 0 || i == len(shown)-1 || len(shown) <= 6 {
			ch.Ticks = append(ch.Ticks, tick{X: x, Text: r.CreatedAt.UTC().Format("2 Jan")})
		}
	}
	return ch
}
