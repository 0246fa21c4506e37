package redact

import "testing"

// TestNamesCorpus: the dictionary of known people reaches the targets of
// its labelled corpus, hard negatives included.
func TestNamesCorpus(t *testing.T) {
	sc, err := EvaluateNames(NamesCorpus())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("names: precision %.3f recall %.3f (tp %d fp %d fn %d)", sc.Precision, sc.Recall, sc.TP, sc.FP, sc.FN)
	if sc.TP < 60 || sc.Precision < 0.95 || sc.Recall < 0.9 {
		t.Errorf("names: precision %.3f recall %.3f (tp %d fp %d fn %d); want ≥ 0.95 and ≥ 0.9", sc.Precision, sc.Recall, sc.TP, sc.FP, sc.FN)
	}
}
