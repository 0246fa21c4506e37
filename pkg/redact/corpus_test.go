package redact_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/redact"
)

// TestCorpusTargets holds the detectors to the targets on the
// labelled corpus: precision ≥ 0.98 and recall ≥ 0.95 for e-mail
// addresses, cards, IBANs and phone numbers. On failure it lists every
// false positive and false negative of the detector that missed.
func TestCorpusTargets(t *testing.T) {
	scores, err := redact.Evaluate(redact.Corpus())
	if err != nil {
		t.Fatal(err)
	}
	misses := map[redact.Kind][]string{}
	err = redact.EvaluateEach(redact.Corpus(), func(line int, text string, k redact.Kind, v string, o redact.Outcome) {
		switch o {
		case redact.FalsePositive:
			misses[k] = append(misses[k], fmt.Sprintf("line %d: false positive %q in %q", line, v, text))
		case redact.FalseNegative:
			misses[k] = append(misses[k], fmt.Sprintf("line %d: missed %q in %q", line, v, text))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range redact.Kinds() {
		sc := scores[k]
		t.Logf("%-15s precision=%.3f recall=%.3f tp=%d fp=%d fn=%d", k, sc.Precision, sc.Recall, sc.TP, sc.FP, sc.FN)
	}
	for _, k := range []redact.Kind{redact.Email, redact.Card, redact.IBAN, redact.Phone} {
		sc := scores[k]
		if sc.TP < 25 {
			t.Errorf("%s: %d true positives in the corpus, want at least 25 to measure anything", k, sc.TP)
		}
		if sc.Precision < 0.98 || sc.Recall < 0.95 {
			t.Errorf("%s: precision %.3f recall %.3f, want ≥ 0.98 and ≥ 0.95:\n  %s", k, sc.Precision, sc.Recall, strings.Join(misses[k], "\n  "))
		}
	}
	for _, k := range redact.Kinds() {
		if len(misses[k]) > 0 {
			t.Logf("%s misses:\n  %s", k, strings.Join(misses[k], "\n  "))
		}
	}
}
