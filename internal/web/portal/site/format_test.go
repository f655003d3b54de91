package site

import (
	"testing"
	"time"
)

// Issue 16, item 9: every time in Norwegian time with the zone named, summer
// and winter; dates as 04.12.2026.
func TestFormats(t *testing.T) {
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	s := &Site{Oslo: oslo}
	winter := time.Date(2026, 12, 4, 14, 5, 9, 0, time.UTC)
	summer := time.Date(2026, 7, 1, 22, 30, 0, 0, time.UTC)
	for _, tc := range []struct{ got, want string }{
		{s.OsloTime(winter), "04.12.2026 kl. 15:05 norsk tid"},
		{s.OsloSeconds(winter), "04.12.2026 kl. 15:05:09 norsk tid"},
		{s.OsloTime(summer), "02.07.2026 kl. 00:30 norsk tid"},
		{s.OsloDate(summer), "02.07.2026"},
		{s.OsloTime(time.Time{}), ""},
		{Date("2026-12-04"), "04.12.2026"},
		{Date("ukjent"), "ukjent"},
		{Thousands(1234567), "1\u00a0234\u00a0567"},
		{Thousands(-123), "-123"},
		{Thousands(-1234), "-1\u00a0234"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
