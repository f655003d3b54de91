package governance

import "time"

// Rule AA-27: a consumer reviews its users' access regularly. Each role a
// user holds for an organisation carries the time it was last confirmed
// (Membership.ReviewedAt, set when the role is given); the review falls due
// when that is every or longer ago, and the organisation's administrators are
// reminded until it is done.

// ReviewDue reports whether a role confirmed at reviewedAt must be reviewed again at now.
func ReviewDue(reviewedAt, now time.Time, every time.Duration) bool {
	return !now.Before(reviewedAt.Add(every))
}

// ReviewCutoff is the confirmation time before which a role is due at now:
// due exactly when reviewedAt is at or before the cutoff.
func ReviewCutoff(now time.Time, every time.Duration) time.Time { return now.Add(-every) }

// MembershipsDue reports whether any of a user's roles is due for review at now.
func MembershipsDue(ms []Membership, now time.Time, every time.Duration) bool {
	for _, m := range ms {
		if ReviewDue(m.ReviewedAt, now, every) {
			return true
		}
	}
	return false
}

// LastReviewed is when the user's roles were last confirmed, all of them: the oldest confirmation.
func LastReviewed(ms []Membership) time.Time {
	var t time.Time
	for i, m := range ms {
		if i == 0 || m.ReviewedAt.Before(t) {
			t = m.ReviewedAt
		}
	}
	return t
}

// ReminderDue reports whether a reminder may be sent at now when the last one
// went at last (zero: never): at most once every (Rules AA-20, AA-27).
func ReminderDue(last, now time.Time, every time.Duration) bool {
	return last.IsZero() || !now.Before(last.Add(every))
}
