package ropa

import (
	"fmt"
	"time"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Retention says in words how long c's rows are kept.
func Retention(c *registry.Collection) string {
	r := c.Retention
	switch {
	case r == nil:
		return "no retention rule: kept until the person's erasure"
	case r.Never:
		return "kept without a time limit"
	}
	verb := "deleted"
	if r.Action == registry.ActionAnonymize {
		verb = "anonymised"
	}
	out := fmt.Sprintf("%s %s after %s", verb, period(r.Window), r.Timestamp)
	if r.RedactAfter > 0 {
		out += fmt.Sprintf("; personal data in the text replaced with pseudonyms after %s", period(r.RedactAfter))
	}
	return out
}

// period says d in days, or in hours below a whole day.
func period(d time.Duration) string {
	day := 24 * time.Hour
	switch {
	case d == day:
		return "1 day"
	case d%day == 0:
		return fmt.Sprintf("%d days", d/day)
	case d == time.Hour:
		return "1 hour"
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return registry.FormatWindow(d, false)
}

// Erasure says in words what an erasure does to c's rows.
func Erasure(c *registry.Collection) string {
	switch c.Erasure.Action {
	case registry.ActionAnonymize:
		return "anonymised on erasure"
	case registry.ActionKeep:
		return "kept on erasure: " + c.Erasure.KeepReason
	}
	return "deleted on erasure"
}
