package api

import (
	"errors"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/locale"
)

// What the page refuses before anything reaches the self-service: each
// has its own sentence on the page (problemOf).
var (
	errOtherSite     = dsr.Errorf(dsr.EFORBIDDEN, "This form was sent from another site: open this page and try again.")
	errSession       = dsr.Errorf(dsr.EFORBIDDEN, "Your session has expired: reload the page and try again.")
	errNoChoice      = dsr.Errorf(dsr.EUNPROCESSABLE, `type: must be "access" or "erasure"`)
	errCodeShape     = dsr.Errorf(dsr.EUNPROCESSABLE, "code: the six digits from the email")
	errUnknownStudio = dsr.Errorf(dsr.EUNPROCESSABLE, "tenant: not a registered tenant")
)

// problem is an error as the page tells it: a message id of pkg/locale,
// and the number its plural form depends on (count true).
type problem struct {
	id    string
	n     int64
	count bool
}

// say writes the problem in p's language; "" for none.
func (pr problem) say(p *locale.Printer) string {
	switch {
	case pr.id == "":
		return ""
	case pr.count:
		return p.N(pr.id, pr.n)
	}
	return p.T(pr.id, "Minutes", p.Number(int64(dsr.CodeTTL/time.Minute)))
}

// problemOf turns an error of step into the sentence that tells a person
// what happened and what to do now.
func problemOf(step string, err error) problem {
	var wrong *dsr.WrongCodeError
	var limited *dsr.RateLimitError
	switch {
	case err == errOtherSite:
		return problem{id: "error.other_site"}
	case err == errSession:
		return problem{id: "error.session"}
	case err == errNoChoice:
		return problem{id: "error.choose"}
	case err == errCodeShape:
		return problem{id: "error.code_shape"}
	case err == errUnknownStudio:
		return problem{id: "error.unknown_studio"}
	case errors.As(err, &wrong) && wrong.Left > 0:
		return problem{id: "error.code_wrong", n: int64(wrong.Left), count: true}
	case errors.As(err, &wrong):
		return problem{id: "error.code_locked"}
	case errors.As(err, &limited):
		minutes := int64((limited.RetryAfter + time.Minute - 1) / time.Minute)
		return problem{id: "error.rate_limited", n: max(minutes, 1), count: true}
	}
	switch dsr.ErrorCode(err) {
	case dsr.EUNPROCESSABLE:
		if step == "ask" {
			return problem{id: "error.email"}
		}
		return problem{id: "error.code_shape"}
	case dsr.EGONE:
		return problem{id: "error.code_expired"}
	case dsr.ENOTFOUND:
		return problem{id: "error.request_gone"}
	case dsr.ECONFLICT:
		return problem{id: "error.request_done"}
	case dsr.EUNAVAILABLE:
		return problem{id: "error.unavailable"}
	}
	return problem{id: "error.internal"}
}
