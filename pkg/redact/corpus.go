package redact

import (
	_ "embed"
	"io"
	"strings"
)

//go:embed testdata/corpus.tsv
var corpus string

// Corpus returns the labelled corpus the package is measured against, in
// the format Evaluate reads: a few hundred lines of chat text in several
// languages with the values a reader would redact, and hard negatives
// (dates, prices, order numbers, versions). The benchmark reports
// Evaluate(Corpus()).
func Corpus() io.Reader { return strings.NewReader(corpus) }
