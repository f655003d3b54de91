package post

import (
	"fmt"
	"time"
)

// Rule DPV-10: a sender sends up to 10,000 messages a calendar year free;
// beyond that it needs a full agreement. A message is one correspondence,
// one recipient: a request to 500 recipients counts 500. The year is the
// calendar year in Norway (Europe/Oslo), so a message sent at 00:30 on
// 1 January Norwegian time counts in the new year, whatever UTC says.

// QuotaRules are the numbers of Rule DPV-10.
type QuotaRules struct {
	FreePerYear int     // 10,000
	NoticeAt    float64 // share of the free volume at which the sender is told it nears the limit: 0.9
}

// DefaultQuota is DPV-10's 10,000 a year, with a notice at 90 %.
func DefaultQuota() QuotaRules { return QuotaRules{FreePerYear: 10000, NoticeAt: 0.9} }

// QuotaYear is the calendar year t falls in, in loc (Europe/Oslo).
func QuotaYear(t time.Time, loc *time.Location) int { return t.In(loc).Year() }

// YearSpan is the first instant of year in loc and of the next: the window
// the store counts a sender's messages in, [start, end).
func YearSpan(year int, loc *time.Location) (start, end time.Time) {
	return time.Date(year, 1, 1, 0, 0, 0, 0, loc), time.Date(year+1, 1, 1, 0, 0, 0, 0, loc)
}

// Quota is a sender's standing for one year, as the portal shows it.
type Quota struct {
	Year      int
	Sent      int  // messages counted this year before this request
	Free      int  // the free volume
	Unlimited bool // a full agreement is in force
	// Notice is set when this request takes the sender to or past the notice
	// share, or is refused: the sender is told (in Norwegian).
	Notice string
}

// Remaining is how many more messages fit in the free volume this year.
func (q Quota) Remaining() int {
	if q.Free-q.Sent < 0 {
		return 0
	}
	return q.Free - q.Sent
}

// CheckQuota decides whether a sender that has sent `sent` messages this
// calendar year may send n more at now (Rule DPV-10): always under a full
// agreement in force, else only if all n fit in the free volume. A request
// is all or nothing, as Altinn's initialize is. The problem, if any, is the
// refusal; Quota.Notice is the notice to show or send either way.
func CheckQuota(s *Sender, sent, n int, now time.Time, loc *time.Location, rules QuotaRules) (Quota, *Problem) {
	q := Quota{Year: QuotaYear(now, loc), Sent: sent, Free: rules.FreePerYear}
	if s != nil && s.Agreement.InForce(now) {
		q.Unlimited = true
		return q, nil
	}
	if sent+n > rules.FreePerYear {
		q.Notice = fmt.Sprintf("Dere har sendt %d av %d meldinger som er gratis i %d. Denne forsendelsen på %d meldinger "+
			"er avvist. For å sende flere i år må det inngås en ordinær samarbeidsavtale.", sent, rules.FreePerYear, q.Year, n)
		p := problem(CodeQuotaExceeded, "recipients",
			fmt.Sprintf("The sender has sent %d of %d messages free in %d; %d more need a full agreement", sent, rules.FreePerYear, q.Year, n),
			q.Notice)
		p.Status = 403
		return q, p
	}
	threshold := int(float64(rules.FreePerYear) * rules.NoticeAt)
	if rules.NoticeAt > 0 && sent+n >= threshold {
		q.Notice = fmt.Sprintf("Dere har nå sendt %d av %d meldinger som er gratis i %d. Over grensen trengs en ordinær samarbeidsavtale.",
			sent+n, rules.FreePerYear, q.Year)
	}
	return q, nil
}
