package site

import (
	"fmt"
	"time"

	"deling/internal/governance"
)

// The portal's one way of showing times, dates and counts (issue 16, item
// 9): every time in Norwegian time (Europe/Oslo) with the zone named, every
// date as 04.12.2026, thousands grouped with a space.

// OsloTime shows a time to the minute as Norwegians read it: "04.12.2026 kl. 15:04 norsk tid"; "" for no time.
func (s *Site) OsloTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return governance.FormatTime(t, s.Oslo)
}

// OsloSeconds shows a time to the second, for logs: "04.12.2026 kl. 15:04:05 norsk tid"; "" for no time.
func (s *Site) OsloSeconds(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(s.Oslo).Format("02.01.2006 kl. 15:04:05") + governance.OsloZone
}

// OsloDate shows the date in Norway of a time: "04.12.2026"; "" for no time.
func (s *Site) OsloDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(s.Oslo).Format("02.01.2006")
}

// Date shows a calendar date written as the register and the APIs write it
// (2026-12-04) as Norwegians read it (04.12.2026); anything else unchanged.
func Date(iso string) string {
	d, err := time.Parse(time.DateOnly, iso)
	if err != nil {
		return iso
	}
	return d.Format("02.01.2006")
}

// Thousands writes n with its thousands grouped as Norwegians do.
func Thousands(n int64) string {
	s := fmt.Sprint(n)
	start := 0
	if n < 0 {
		start = 1
	}
	for i := len(s) - 3; i > start; i -= 3 {
		s = s[:i] + "\u00a0" + s[i:] // Norwegian groups thousands with a (non-breaking) space
	}
	return s
}
