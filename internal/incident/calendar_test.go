package incident

import (
	"testing"
	"time"
	_ "time/tzdata" // Europe/Oslo on machines without a zoneinfo database
)

func oslo(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func norway(t testing.TB) *Calendar {
	t.Helper()
	c, err := NewCalendar(oslo(t), DefaultWorkStart, DefaultWorkEnd)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// at is a wall-clock time in Oslo; time.Date resolves the summer-time offset.
func at(t testing.TB, y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, oslo(t))
}

// Rule AA-19: working days follow the Norwegian calendar.
func TestCalendarHolidays_AA19(t *testing.T) {
	c := norway(t)
	for _, tc := range []struct {
		name string
		day  time.Time
		work bool
	}{
		{"Maundy Thursday 2027-03-25", at(t, 2027, 3, 25, 12, 0), false},
		{"Good Friday 2027-03-26", at(t, 2027, 3, 26, 12, 0), false},
		{"Easter Monday 2027-03-29", at(t, 2027, 3, 29, 12, 0), false},
		{"Tuesday after Easter 2027-03-30", at(t, 2027, 3, 30, 12, 0), true},
		{"Wednesday before Easter 2027-03-24", at(t, 2027, 3, 24, 12, 0), true},
		{"Ascension Day 2027-05-06 (Easter+39)", at(t, 2027, 5, 6, 12, 0), false},
		{"17 May and Whit Monday 2027-05-17", at(t, 2027, 5, 17, 12, 0), false},
		{"Whit Monday 2026-05-25", at(t, 2026, 5, 25, 12, 0), false},
		{"1 May 2026 (Friday)", at(t, 2026, 5, 1, 12, 0), false},
		{"Christmas Day 2026-12-25", at(t, 2026, 12, 25, 12, 0), false},
		{"Boxing Day 2025-12-26", at(t, 2025, 12, 26, 12, 0), false},
		{"Christmas Eve 2026-12-24 is a working day", at(t, 2026, 12, 24, 12, 0), true},
		{"New Year's Day 2027", at(t, 2027, 1, 1, 12, 0), false},
		{"Saturday 2026-01-10", at(t, 2026, 1, 10, 12, 0), false},
		{"Sunday 2026-01-11", at(t, 2026, 1, 11, 12, 0), false},
		// 23:30 UTC on 24 March 2027 is already Maundy Thursday in Oslo.
		{"Maundy Thursday seen from UTC", time.Date(2027, 3, 24, 23, 30, 0, 0, time.UTC), false},
	} {
		if got := c.IsWorkday(tc.day); got != tc.work {
			t.Errorf("%s: IsWorkday = %v, want %v", tc.name, got, tc.work)
		}
	}
	if name, ok := c.Holiday(at(t, 2027, 3, 25, 9, 0)); !ok || name != "Skjærtorsdag" {
		t.Errorf("Holiday(2027-03-25) = %q, %v, want Skjærtorsdag", name, ok)
	}
}

func TestNewCalendarRejects(t *testing.T) {
	loc := oslo(t)
	for _, tc := range []struct {
		name       string
		loc        *time.Location
		start, end time.Duration
	}{
		{"no location", nil, 8 * time.Hour, 16 * time.Hour},
		{"start after end", loc, 16 * time.Hour, 8 * time.Hour},
		{"empty day", loc, 8 * time.Hour, 8 * time.Hour},
		{"beyond midnight", loc, 8 * time.Hour, 25 * time.Hour},
		{"seconds", loc, 8*time.Hour + time.Second, 16 * time.Hour},
	} {
		if _, err := NewCalendar(tc.loc, tc.start, tc.end); err == nil {
			t.Errorf("%s: NewCalendar succeeded, want error", tc.name)
		}
	}
}

func TestCalendarConfigurableHours_AA19(t *testing.T) {
	c, err := NewCalendar(oslo(t), 8*time.Hour, 15*time.Hour+30*time.Minute) // Sikt's 08:00–15:30
	if err != nil {
		t.Fatal(err)
	}
	// Mon 2026-01-12 14:00 + 2 wh: 14:00–15:30 (1.5 h), Tue 08:00 + 0.5 h = 08:30.
	if got, want := c.AddWorkHours(at(t, 2026, 1, 12, 14, 0), 2*time.Hour), at(t, 2026, 1, 13, 8, 30); !got.Equal(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got, want := c.AddWorkDays(at(t, 2026, 1, 12, 14, 0), 1), at(t, 2026, 1, 13, 14, 0); !got.Equal(want) {
		t.Errorf("one working day of 7.5 h: got %v, want %v", got, want)
	}
}

func TestWorkHoursBetween_AA19(t *testing.T) {
	c := norway(t)
	for _, tc := range []struct {
		name string
		a, b time.Time
		want time.Duration
	}{
		{"over Easter 2026: Wed 14:00 to Tue 14:00", at(t, 2026, 4, 1, 14, 0), at(t, 2026, 4, 7, 14, 0), 8 * time.Hour},
		{"reversed is zero", at(t, 2026, 4, 7, 14, 0), at(t, 2026, 4, 1, 14, 0), 0},
		{"a weekend", at(t, 2026, 1, 9, 16, 0), at(t, 2026, 1, 12, 8, 0), 0},
		{"over the change to summer time: Fri 12:00 to Mon 12:00", at(t, 2026, 3, 27, 12, 0), at(t, 2026, 3, 30, 12, 0), 8 * time.Hour},
	} {
		if got := c.WorkHoursBetween(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSpanString(t *testing.T) {
	for _, tc := range []struct {
		s    Span
		want string
	}{
		{Span{Elapsed: 15 * time.Minute}, "15 minutter"},
		{Span{Elapsed: time.Hour}, "1 time"},
		{Span{WorkHours: 2 * time.Hour}, "2 arbeidstimer"},
		{Span{WorkHours: time.Hour}, "1 arbeidstime"},
		{Span{WorkDays: 1}, "1 arbeidsdag"},
		{Span{WorkDays: 5}, "5 arbeidsdager"},
	} {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.s, got, tc.want)
		}
	}
}
