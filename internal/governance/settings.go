package governance

import "time"

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
}

// DefaultSettings are the rules' own numbers, and reasonable ones where a rule says "regularly".
func DefaultSettings() Settings {
	return Settings{
		ReviewEvery:        180 * 24 * time.Hour,
		RemindEvery:        7 * 24 * time.Hour,
		DowntimeNotice:     7 * 24 * time.Hour,
		DeprecationMonths:  4,
		TermsNotice:        30 * 24 * time.Hour,
		ConsentMaxValidity: 365 * 24 * time.Hour,
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
	return s
}
