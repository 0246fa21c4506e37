package redact

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Score is how one detector did on a labelled corpus. Values are matched
// exactly: a phone found as "7946 0018" when "020 7946 0018" was labelled
// is a false positive and a false negative.
type Score struct {
	TP, FP, FN int
	// Precision is TP/(TP+FP), and 1 when the detector found nothing.
	Precision float64
	// Recall is TP/(TP+FN), and 1 when the corpus labels nothing of the kind.
	Recall float64
}

// ErrCorpus is wrapped by the errors Evaluate returns for a malformed line.
var ErrCorpus = errors.New("redact: corpus")

// Evaluate runs Detect on each line of a labelled corpus and scores every
// detector on every line. A line is
//
//	kind<TAB>expected<TAB>text[<TAB>known]
//
// where kind is a Kind or "none" (what the line was written to test),
// expected is "-" or the values the line holds separated by " | ", each
// prefixed "kind:" when of another kind than the line's, and known lists
// the subject's identities, separated by " | ", passed to Detect. Blank
// lines and lines starting with '#' are skipped. The result has an entry
// for every Kind. Evaluate returns an error wrapping ErrCorpus, naming the
// line, for a line that does not parse, and the reader's error if reading
// fails.
func Evaluate(corpus io.Reader) (map[Kind]Score, error) {
	scores := make(map[Kind]Score)
	for _, k := range Kinds() {
		scores[k] = Score{}
	}
	err := evaluate(corpus, func(_ int, _ string, k Kind, _ string, outcome Outcome) {
		sc := scores[k]
		switch outcome {
		case TruePositive:
			sc.TP++
		case FalsePositive:
			sc.FP++
		case FalseNegative:
			sc.FN++
		}
		scores[k] = sc
	})
	if err != nil {
		return nil, err
	}
	for k, sc := range scores {
		sc.Precision, sc.Recall = 1, 1
		if sc.TP+sc.FP > 0 {
			sc.Precision = float64(sc.TP) / float64(sc.TP+sc.FP)
		}
		if sc.TP+sc.FN > 0 {
			sc.Recall = float64(sc.TP) / float64(sc.TP+sc.FN)
		}
		scores[k] = sc
	}
	return scores, nil
}

// Outcome is what became of one labelled or detected value.
type Outcome uint8

// Outcomes of a value in EvaluateEach.
const (
	TruePositive  Outcome = iota // labelled and detected
	FalsePositive                // detected, not labelled
	FalseNegative                // labelled, not detected
)

// EvaluateEach reads a corpus as Evaluate does and calls fn for every
// value labelled or detected, with its line number and text, so a failing
// score can be explained. It returns Evaluate's errors.
func EvaluateEach(corpus io.Reader, fn func(line int, text string, kind Kind, value string, outcome Outcome)) error {
	return evaluate(corpus, fn)
}

func evaluate(corpus io.Reader, fn func(line int, text string, kind Kind, value string, outcome Outcome)) error {
	sc := bufio.NewScanner(corpus)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	type labelled struct {
		kind  Kind
		value string
	}
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 && len(f) != 4 {
			return fmt.Errorf("%w: line %d: %d tab-separated fields, want 3 or 4", ErrCorpus, n, len(f))
		}
		kind, text := Kind(f[0]), f[2]
		if !kind.valid() && kind != "none" {
			return fmt.Errorf("%w: line %d: unknown kind %q", ErrCorpus, n, f[0])
		}
		want := map[labelled]int{}
		if f[1] != "-" {
			for _, v := range strings.Split(f[1], " | ") {
				k := kind
				if p, rest, ok := strings.Cut(v, ":"); ok && Kind(p).valid() {
					k, v = Kind(p), rest
				}
				if v == "" || k == "none" {
					return fmt.Errorf("%w: line %d: value %q needs a kind prefix or is empty", ErrCorpus, n, v)
				}
				want[labelled{k, v}]++
			}
		}
		var known []string
		if len(f) == 4 {
			known = strings.Split(f[3], " | ")
		}
		for _, sp := range Detect(text, known...) {
			got := labelled{sp.Kind, text[sp.Start:sp.End]}
			if want[got] > 0 {
				want[got]--
				fn(n, text, got.kind, got.value, TruePositive)
			} else {
				fn(n, text, got.kind, got.value, FalsePositive)
			}
		}
		for l, c := range want {
			for range c {
				fn(n, text, l.kind, l.value, FalseNegative)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("redact: read corpus: %w", err)
	}
	return nil
}

func (k Kind) valid() bool {
	for _, v := range Kinds() {
		if k == v {
			return true
		}
	}
	return false
}
