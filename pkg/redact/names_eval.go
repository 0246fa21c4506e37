package redact

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"strings"
)

//go:embed testdata/names.tsv
var namesCorpus string

// NamesCorpus returns the labelled chat lines the dictionary of known
// people is measured against, in the format EvaluateNames reads: names in
// self-introductions, mentions, initials, lower case and without accents,
// and hard negatives where a name is a common word ("by the grace of",
// "I will", "hope so").
func NamesCorpus() io.Reader { return strings.NewReader(namesCorpus) }

// EvaluateNames scores People on a labelled corpus: a line
// "people<TAB>name | name …" gives the dictionary (before the lines it
// scores), every other line is "expected<TAB>text", expected being "-" or
// the names as they appear in text separated by " | ". A name is found
// when a span of kind Name covers exactly that text. Blank lines and lines
// starting with '#' are skipped; a malformed line is an error wrapping
// ErrCorpus.
func EvaluateNames(corpus io.Reader) (Score, error) {
	var sc Score
	var people *People
	s := bufio.NewScanner(corpus)
	for n := 1; s.Scan(); n++ {
		line := s.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		expected, text, ok := strings.Cut(line, "\t")
		if !ok {
			return sc, fmt.Errorf("%w: line %d: want expected<TAB>text", ErrCorpus, n)
		}
		if expected == "people" {
			people = NewPeople(strings.Split(text, " | "), 0)
			continue
		}
		if people == nil {
			return sc, fmt.Errorf("%w: line %d: no people line before it", ErrCorpus, n)
		}
		want := map[string]int{}
		if expected != "-" {
			for _, v := range strings.Split(expected, " | ") {
				want[v]++
			}
		}
		for _, sp := range people.Find(text) {
			if v := text[sp.Start:sp.End]; want[v] > 0 {
				want[v]--
				sc.TP++
			} else {
				sc.FP++
			}
		}
		for _, left := range want {
			sc.FN += left
		}
	}
	if err := s.Err(); err != nil {
		return sc, err
	}
	sc.Precision, sc.Recall = 1, 1
	if sc.TP+sc.FP > 0 {
		sc.Precision = float64(sc.TP) / float64(sc.TP+sc.FP)
	}
	if sc.TP+sc.FN > 0 {
		sc.Recall = float64(sc.TP) / float64(sc.TP+sc.FN)
	}
	return sc, nil
}
