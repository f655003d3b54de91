package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"deling/internal/governance"
	"deling/internal/job"
	"deling/internal/store"
)

// reminderJobs remind consumers of what is due: access reviews (Rule AA-27).
// The job looks every hour; an organisation's administrators are written to at
// most once per rules.RemindEvery (remembered in the store, so restarts and
// several nodes do not repeat it), for as long as a review is due.
func reminderJobs(db *store.DB, log *slog.Logger, rules governance.Settings, baseURL string) []job.Job {
	rules = rules.WithDefaults()
	return []job.Job{{Name: "access review reminders", Interval: time.Hour, Run: func(ctx context.Context) error {
		n, err := remindReviews(ctx, db, rules, baseURL, time.Now())
		if n > 0 {
			log.Info("access review reminders sent", "organisations", n)
		}
		return err
	}}}
}

// remindReviews writes to the administrators (or, lacking any, the role
// holders) of each organisation with users whose review is due at now, and
// returns how many organisations were reminded.
func remindReviews(ctx context.Context, db *store.DB, rules governance.Settings, baseURL string, now time.Time) (int, error) {
	due, err := db.ReviewsDue(ctx, governance.ReviewCutoff(now, rules.ReviewEvery))
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, d := range due {
		to, err := db.UsersWithRole(ctx, d.Org, governance.Administrator)
		if err != nil {
			return sent, err
		}
		if len(to) == 0 {
			if to, err = db.UsersWithRole(ctx, d.Org, governance.Rolleinnehaver); err != nil {
				return sent, err
			}
		}
		if len(to) == 0 {
			continue // nobody to remind; the register's staff see the organisation's users in the portal
		}
		users := "1 bruker"
		if d.Users != 1 {
			users = fmt.Sprintf("%d brukere", d.Users)
		}
		var letters []governance.Letter
		for _, u := range to {
			letters = append(letters, governance.Letter{To: u.Email, Subject: "Påminnelse: gå gjennom hvem som har tilgang",
				Body: fmt.Sprintf("Hei %s,\n\n%s i virksomheten (org.nr. %s) har ikke fått tilgangen sin bekreftet på %d dager. "+
					"Virksomheten skal jevnlig gå gjennom hvem som har tilgang, og ta bort tilgangen til dem som har sluttet eller fått andre oppgaver (regel AA-27).\n\n"+
					"Gå gjennom brukerne her:\n%s/portal/brukere\n\nDu får en ny påminnelse om %d dager hvis gjennomgangen ikke er gjort.\n",
					u.Navn, users, d.Org, int(rules.ReviewEvery/(24*time.Hour)), baseURL, int(rules.RemindEvery/(24*time.Hour)))})
		}
		ok, err := db.RemindReview(ctx, d.Org, rules.RemindEvery, letters...)
		if err != nil {
			return sent, err
		}
		if ok {
			sent++
		}
	}
	return sent, nil
}
