package incident

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/no"
)

// Calendar is the working calendar the service-incident clocks count in
// (Rule AA-19): Monday to Friday within working hours, less Norway's public
// holidays (helligdagsloven § 2 and the 1 and 17 May høytidsdager, from
// github.com/rickar/cal/v2/no: Maundy Thursday, Good Friday, Easter Monday,
// Ascension Day, Whit Monday, Christmas and more). Easter and Whit Sunday
// are Sundays and so never working days. Build it once at start-up and
// share it: it is read-only after NewCalendar.
//
// Working hours are wall-clock times in the calendar's location, so 08:00
// stays 08:00 across the change to and from summer time. Working hours
// must not span the night of a change (02:00–03:00 in Europe/Oslo).
type Calendar struct {
	bc         *cal.BusinessCalendar
	loc        *time.Location
	start, end time.Duration
}

// Default working hours: 08:00–16:00 Europe/Oslo.
const (
	DefaultWorkStart = 8 * time.Hour
	DefaultWorkEnd   = 16 * time.Hour
)

// NewCalendar is the Norwegian working calendar in loc (Europe/Oslo in
// production) with working hours from start to end after midnight.
func NewCalendar(loc *time.Location, start, end time.Duration) (*Calendar, error) {
	if loc == nil {
		return nil, errors.New("calendar: no location")
	}
	if start < 0 || end > 24*time.Hour || start >= end || start%time.Minute != 0 || end%time.Minute != 0 {
		return nil, fmt.Errorf("calendar: working hours %v–%v: want whole minutes, 0 ≤ start < end ≤ 24h", start, end)
	}
	bc := cal.NewBusinessCalendar()
	bc.AddHoliday(no.Holidays...)
	bc.SetWorkHours(start, end)
	return &Calendar{bc: bc, loc: loc, start: start, end: end}, nil
}

// Location is the calendar's time zone; the portal shows times in it.
func (c *Calendar) Location() *time.Location { return c.loc }

// DayLength is one working day's working hours: what "a working day" is as a duration.
func (c *Calendar) DayLength() time.Duration { return c.end - c.start }

// IsWorkday reports whether t's date, in the calendar's location, is a working day.
func (c *Calendar) IsWorkday(t time.Time) bool { return c.bc.IsWorkday(t.In(c.loc)) }

// Holiday is the name of the public holiday on t's date, if it is one.
// When two fall on one date (Whit Monday on 17 May 2027) it names one.
func (c *Calendar) Holiday(t time.Time) (string, bool) {
	_, obs, h := c.bc.IsHoliday(t.In(c.loc))
	if !obs || h == nil {
		return "", false
	}
	return h.Name, true
}

// AddWorkHours is the instant d of working time after t. Time outside
// working hours does not count: from 16:50 on a Thursday, one working hour
// ends at 09:00 on the next working day.
func (c *Calendar) AddWorkHours(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t.In(c.loc)
	}
	return c.bc.AddWorkHours(t.In(c.loc), d).In(c.loc)
}

// AddWorkDays is the instant n working days of working time after t: n
// times the working day's length in working hours, so that a report at
// 10:00 has one working day until 10:00 on the next working day.
func (c *Calendar) AddWorkDays(t time.Time, n int) time.Time {
	return c.AddWorkHours(t, time.Duration(n)*c.DayLength())
}

// WorkHoursBetween is the working time from a to b, 0 if b is not after a.
func (c *Calendar) WorkHoursBetween(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	return c.bc.WorkHoursInRange(a.In(c.loc), b.In(c.loc))
}

// Span is a length of time as a service level states it: elapsed time,
// working hours, or working days. One of the three is set.
type Span struct {
	Elapsed   time.Duration
	WorkHours time.Duration
	WorkDays  int
}

// Add is the instant s after t in the calendar.
func (c *Calendar) Add(t time.Time, s Span) time.Time {
	switch {
	case s.WorkDays > 0:
		return c.AddWorkDays(t, s.WorkDays)
	case s.WorkHours > 0:
		return c.AddWorkHours(t, s.WorkHours)
	}
	return t.Add(s.Elapsed).In(c.loc)
}

// String is the span in Norwegian: "15 minutter", "2 arbeidstimer", "1 arbeidsdag".
func (s Span) String() string {
	plural := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	}
	switch {
	case s.WorkDays > 0:
		return plural(s.WorkDays, "arbeidsdag", "arbeidsdager")
	case s.WorkHours > 0:
		return plural(int(s.WorkHours/time.Hour), "arbeidstime", "arbeidstimer")
	case s.Elapsed >= time.Hour && s.Elapsed%time.Hour == 0:
		return plural(int(s.Elapsed/time.Hour), "time", "timer")
	}
	return plural(int(s.Elapsed/time.Minute), "minutt", "minutter")
}
