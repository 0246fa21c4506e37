package registry

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseWindow parses a retention window: "never", or a positive whole number
// followed by a unit: m (minutes), h (hours), d (days) or w (weeks), as in
// "30d" or "12h". It returns never=true for "never".
func ParseWindow(s string) (d time.Duration, never bool, err error) {
	s = strings.TrimSpace(s)
	if s == "never" {
		return 0, true, nil
	}
	units := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}
	if len(s) < 2 {
		return 0, false, fmt.Errorf("window %q: write a number and a unit (m, h, d, w) such as 30d, or never", s)
	}
	unit, ok := units[s[len(s)-1]]
	n, perr := strconv.Atoi(s[:len(s)-1])
	if !ok || perr != nil || n <= 0 {
		return 0, false, fmt.Errorf("window %q: write a positive number and a unit (m, h, d, w) such as 30d, or never", s)
	}
	if int64(n) > int64(100*365*24*time.Hour/unit) {
		return 0, false, fmt.Errorf("window %q: longer than 100 years: use never", s)
	}
	return time.Duration(n) * unit, false, nil
}

// FormatWindow is the inverse of ParseWindow, choosing the largest exact unit.
func FormatWindow(d time.Duration, never bool) string {
	if never {
		return "never"
	}
	for _, u := range []struct {
		s string
		d time.Duration
	}{{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}} {
		if d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.s
		}
	}
	return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
}
