package redact_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/redact"
)

func TestEvaluateCounts(t *testing.T) {
	corpus := strings.Join([]string{
		"# a comment",
		"",
		"email\tanna@example.de\twrite to anna@example.de",   // TP
		"email\tanna dot example\twrite to anna dot example", // FN
		"phone\t-\tcall 0612345678 today",                    // FP: the label says none
		"iban\tDE89 3704 0044 0532 0130 00 | email:x@y.de\tDE89 3704 0044 0532 0130 00 x@y.de",
		"identity\tAnna\thi Anna\tAnna",
	}, "\n")
	scores, err := redact.Evaluate(strings.NewReader(corpus))
	if err != nil {
		t.Fatal(err)
	}
	want := map[redact.Kind]redact.Score{
		redact.Email:    {TP: 2, FN: 1, Precision: 1, Recall: 2.0 / 3},
		redact.Phone:    {FP: 1, Precision: 0, Recall: 1},
		redact.IBAN:     {TP: 1, Precision: 1, Recall: 1},
		redact.Identity: {TP: 1, Precision: 1, Recall: 1},
		redact.Card:     {Precision: 1, Recall: 1},
	}
	for k, w := range want {
		if got := scores[k]; got != w {
			t.Errorf("%s: %+v, want %+v", k, got, w)
		}
	}
	if len(scores) != len(redact.Kinds()) {
		t.Errorf("%d scores, want one per kind", len(scores))
	}
}

func TestEvaluateErrors(t *testing.T) {
	for _, tc := range []struct{ name, corpus, want string }{
		{"fields", "email\tx@y.de", "line 1: 2 tab-separated fields"},
		{"kind", "mail\tx@y.de\tx@y.de", `line 1: unknown kind "mail"`},
		{"none needs prefix", "# c\nnone\tx@y.de\tx@y.de", "line 2: value"},
		{"empty value", "email\tx@y.de | \tx@y.de", "line 1: value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := redact.Evaluate(strings.NewReader(tc.corpus))
			if !errors.Is(err, redact.ErrCorpus) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrCorpus mentioning %q", err, tc.want)
			}
		})
	}
}
