package governance

import (
	"sync"
	"time"

	"deling/internal/incident"
)

// Settings are the rules' numbers (RULES.md: a number is configuration, with the rule's value as default).
type Settings struct {
	// ReviewEvery is how often a consumer confirms each user's access (Rule AA-27).
	ReviewEvery time.Duration
	// RemindEvery is how often a reminder is repeated while something is due
	// (an access review, a missing notice subscription: Rules AA-20, AA-27).
	RemindEvery time.Duration
	// DowntimeNotice is how far ahead planned downtime is announced (Rule AA-15: 1 week).
	DowntimeNotice time.Duration
	// DeprecationPeriod is how long an old API version lives after a normal change is announced (Rule AA-23: 4 months).
	DeprecationMonths int
	// TermsNotice is how far ahead a new terms version is announced before it counts as accepted (Rule AA-24).
	TermsNotice time.Duration
	// ConsentMaxValidity is the longest expiry a person may give a consent (Rule SK-08).
	ConsentMaxValidity time.Duration
	// PostMaintenanceWorkDays is how many working days ahead maintenance of digital post is announced (Rule DPV-08: 5).
	PostMaintenanceWorkDays int
	// PostInterfaceMonths is how many months ahead a post interface change senders act on is announced (Rule DPV-08: 6).
	PostInterfaceMonths int
	// Calendar is Norway's working calendar the working days are counted in; nil for Europe/Oslo's.
	Calendar *incident.Calendar
}

// osloCalendar is Norway's working calendar in Europe/Oslo, nil if the zone is missing.
var osloCalendar = sync.OnceValue(func() *incident.Calendar {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		return nil
	}
	c, err := incident.NewCalendar(loc, incident.DefaultWorkStart, incident.DefaultWorkEnd)
	if err != nil {
		return nil
	}
	return c
})

// DefaultSettings are the rules' own numbers, and reasonable ones where a rule says "regularly".
func DefaultSettings() Settings {
	return Settings{
		ReviewEvery:             180 * 24 * time.Hour,
		RemindEvery:             7 * 24 * time.Hour,
		DowntimeNotice:          7 * 24 * time.Hour,
		DeprecationMonths:       4,
		TermsNotice:             30 * 24 * time.Hour,
		ConsentMaxValidity:      365 * 24 * time.Hour,
		PostMaintenanceWorkDays: 5,
		PostInterfaceMonths:     6,
	}
}

// WithDefaults fills zero fields with the defaults.
func (s Settings) WithDefaults() Settings {
	d := DefaultSettings()
	if s.ReviewEvery <= 0 {
		s.ReviewEvery = d.ReviewEvery
	}
	if s.RemindEvery <= 0 {
		s.RemindEvery = d.RemindEvery
	}
	if s.DowntimeNotice <= 0 {
		s.DowntimeNotice = d.DowntimeNotice
	}
	if s.DeprecationMonths <= 0 {
		s.DeprecationMonths = d.DeprecationMonths
	}
	if s.TermsNotice <= 0 {
		s.TermsNotice = d.TermsNotice
	}
	if s.ConsentMaxValidity <= 0 {
		s.ConsentMaxValidity = d.ConsentMaxValidity
	}
	if s.PostMaintenanceWorkDays <= 0 {
		s.PostMaintenanceWorkDays = d.PostMaintenanceWorkDays
	}
	if s.PostInterfaceMonths <= 0 {
		s.PostInterfaceMonths = d.PostInterfaceMonths
	}
	if s.Calendar == nil {
		s.Calendar = osloCalendar()
	}
	return s
}
