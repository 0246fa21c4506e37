package dsr

import (
	"math"
	"strconv"
)

// DefaultBrandColor is Lethe's own colour, for a studio without one.
const DefaultBrandColor = "#1a5fb4"

// Colors returns the colours people see the studio in, on the privacy
// page, in the mails and in report.html: its brand colour as a background
// (DefaultBrandColor without one, or for a nil tenant) and black or white
// text, whichever contrasts more with it (WCAG 2 contrast ratio).
func (t *Tenant) Colors() (background, text string) {
	background = DefaultBrandColor
	if t != nil && brandColorRE.MatchString(t.BrandColor) {
		background = t.BrandColor
	}
	l := luminance(background)
	if 1.05/(l+0.05) >= (l+0.05)/0.05 {
		return background, "#ffffff"
	}
	return background, "#000000"
}

// luminance is the relative luminance of "#rrggbb" (WCAG 2).
func luminance(hex string) float64 {
	channel := func(i int) float64 {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*channel(0) + 0.7152*channel(1) + 0.0722*channel(2)
}
