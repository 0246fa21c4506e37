package retention

import (
	"fmt"

	"github.com/robfig/cron/v3"
)

// DefaultSchedule is when sweeps run without retention.schedule in the
// registry: every day at 03:00 (the server's local time).
const DefaultSchedule = "0 3 * * *"

// ParseSchedule parses a standard five-field cron spec (or a descriptor
// such as @daily); "" is DefaultSchedule. Errors say what is wrong.
func ParseSchedule(spec string) (cron.Schedule, error) {
	if spec == "" {
		spec = DefaultSchedule
	}
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %v", spec, err)
	}
	return s, nil
}
