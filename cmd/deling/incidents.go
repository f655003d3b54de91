package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"deling/internal/governance"
	"deling/internal/incident"
	"deling/internal/job"
	"deling/internal/store"
)

// reminderPoints is --breach-reminders: when, after awareness, the owner of an
// open breach case and the DPO are reminded of the 72-hour deadline (Rule AV-05).
type reminderPoints []time.Duration

func (p *reminderPoints) String() string {
	var out []string
	for _, d := range *p {
		out = append(out, d.String())
	}
	return strings.Join(out, ",")
}

func (p *reminderPoints) Set(s string) error {
	var out reminderPoints
	for _, part := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d <= 0 || d >= incident.NotifyWithin {
			return fmt.Errorf("want durations between 0 and 72h, e.g. 24h,48h,66h: %q", part)
		}
		out = append(out, d)
	}
	*p = out
	return nil
}

// breachReminderJob reminds of open breach cases' Datatilsynet deadline (Rule
// AV-05): at each point after awareness, and once when overdue, the case's
// owner (or, while nobody has taken it, every case worker) and the register's
// data protection officers get an e-mail. It looks every minute; each
// reminder goes out once, also over restarts and on several nodes
// (store.RemindIncident). It also forgets the public form's old counts.
func breachReminderJob(db *store.DB, log *slog.Logger, points []time.Duration, baseURL string) job.Job {
	if len(points) == 0 {
		points = incident.DefaultReminderPoints()
	}
	return job.Job{Name: "breach deadline reminders", Interval: time.Minute, Run: func(ctx context.Context) error {
		n, err := remindBreaches(ctx, db, points, baseURL, time.Now())
		if n > 0 {
			log.Info("breach reminders sent", "cases", n)
		}
		f, ferr := remindFollowUps(ctx, db, baseURL, time.Now())
		if f > 0 {
			log.Info("breach follow-up reminders sent", "cases", f)
		}
		return errors.Join(err, ferr, db.PurgeIncidentThrottle(ctx, time.Now().Add(-2*time.Hour)))
	}}
}

// breachNoticeJob carries on the jobs notifying the persons a breach
// affected (Rule AV-06), NotifyBatch persons a transaction, until every
// running job is done or the node stops leading; the next run resumes where
// the last committed batch ended.
func breachNoticeJob(db *store.DB, log *slog.Logger) job.Job {
	return job.Job{Name: "breach person notices", Interval: 5 * time.Second, Run: func(ctx context.Context) error {
		n, err := db.RunIncidentNotices(ctx, store.NotifyBatch, 0)
		if n > 0 {
			log.Info("breach person notices recorded", "persons", n)
		}
		return err
	}}
}

// reminderInputs loads what both reminder loops start from: the cases f
// selects, the time zone the reminders are written in, and the register's
// data protection officers, who get every reminder.
func reminderInputs(ctx context.Context, db *store.DB, f store.IncidentFilter) ([]store.IncidentCase, *time.Location, []governance.User, error) {
	cases, err := db.Incidents(ctx, f)
	if err != nil {
		return nil, nil, nil, err
	}
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		return nil, nil, nil, err
	}
	dpos, err := db.UsersWithRole(ctx, governance.AuthorityOrg, governance.Personvernombud)
	return cases, oslo, dpos, err
}

// remindBreaches sends the reminders due at now and returns for how many cases.
func remindBreaches(ctx context.Context, db *store.DB, points []time.Duration, baseURL string, now time.Time) (int, error) {
	cases, oslo, dpos, err := reminderInputs(ctx, db, store.IncidentFilter{All: true, Open: true})
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, c := range cases {
		due := c.RemindersDue(points, c.RemindedTo, now)
		if len(due) == 0 {
			continue
		}
		to, err := breachRecipients(ctx, db, c.Owner, dpos)
		if err != nil {
			return sent, err
		}
		rem := due[0]
		deadline := incident.NotifyDeadline(c.Awareness())
		subject := fmt.Sprintf("Påminnelse: avvik må meldes til Datatilsynet innen %s", governance.FormatTime(deadline, oslo))
		state := fmt.Sprintf("Det er %d timer siden registerforvalteren ble kjent med avviket. Fristen på 72 timer går ut %s.", int(rem.After.Hours()), governance.FormatTime(deadline, oslo))
		if rem.Overdue {
			subject = "Fristen er passert: avvik er ikke meldt til Datatilsynet"
			state = fmt.Sprintf("Fristen på 72 timer gikk ut %s. Meldingen må nå begrunne forsinkelsen (regel AV-05).", governance.FormatTime(deadline, oslo))
		}
		var letters []governance.Letter
		for _, u := range to {
			letters = append(letters, governance.Letter{Kind: "reminder.breach", To: u.Email, Subject: subject,
				// The reporter's own words stay in the portal: a public report's text is anyone's.
				Body: fmt.Sprintf("Hei %s,\n\nEt avvik på personopplysningssikkerheten er ikke avgjort eller meldt til Datatilsynet ennå. %s\n\n"+
					"Meldt: %s\nStatus: %s\n\nSe saken her:\n%s/portal/avvik/%s\n",
					u.Navn, state, governance.FormatTime(c.Report.ReportedAt, oslo), c.Status.Label(), baseURL, c.ID)})
		}
		note := fmt.Sprintf("%d timer", int(rem.After.Hours()))
		if rem.Overdue {
			note = "fristen er passert"
		}
		ok, err := db.RemindIncident(ctx, c.ID, c.RemindedTo, now, letters, note)
		if err != nil {
			return sent, err
		}
		if ok {
			sent++
		}
	}
	return sent, nil
}

// remindFollowUps reminds the owner of a closed case, and the register's
// DPOs, of follow-up items due and of the review date, and again every week
// while any is overdue, until the follow-up is done (Rule AV-08). It returns
// for how many cases.
func remindFollowUps(ctx context.Context, db *store.DB, baseURL string, now time.Time) (int, error) {
	cases, oslo, dpos, err := reminderInputs(ctx, db, store.IncidentFilter{All: true})
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, c := range cases {
		if c.FollowUpReminderDue(c.RemindedTo, now).IsZero() {
			continue
		}
		to, err := breachRecipients(ctx, db, c.Owner, dpos)
		if err != nil {
			return sent, err
		}
		var lines []string
		for _, d := range c.Due() {
			if d.What == incident.DueFollowUp || d.What == incident.DueReview {
				line := d.What.Label() + ": " + governance.FormatTime(d.At, oslo)
				if d.Note != "" {
					line += " – " + d.Note
				}
				if d.Overdue(now) {
					line += " (forfalt)"
				}
				lines = append(lines, line)
			}
		}
		var letters []governance.Letter
		for _, u := range to {
			letters = append(letters, governance.Letter{Kind: "reminder.breach.followup", To: u.Email, Subject: "Påminnelse: oppfølging av avvik",
				Body: fmt.Sprintf("Hei %s,\n\nOppfølgingen av et lukket avvik er ikke fullført (regel AV-08):\n\n%s\n\nSe saken her:\n%s/portal/avvik/%s\n",
					u.Navn, strings.Join(lines, "\n"), baseURL, c.ID)})
		}
		ok, err := db.RemindIncident(ctx, c.ID, c.RemindedTo, now, letters, "oppfølging")
		if err != nil {
			return sent, err
		}
		if ok {
			sent++
		}
	}
	return sent, nil
}

// breachRecipients are who a case's reminder goes to: its owners
// (breachOwners) and the register's DPOs, each address once.
func breachRecipients(ctx context.Context, db *store.DB, owner string, dpos []governance.User) ([]governance.User, error) {
	to, err := breachOwners(ctx, db, owner)
	if err != nil {
		return nil, err
	}
	for _, u := range dpos {
		if !slices.ContainsFunc(to, func(x governance.User) bool { return x.Email == u.Email }) {
			to = append(to, u)
		}
	}
	return to, nil
}

// breachOwners are who a case's reminder goes to besides the DPO: its owner, or every case worker while nobody owns it.
func breachOwners(ctx context.Context, db *store.DB, owner string) ([]governance.User, error) {
	if owner != "" {
		u, err := db.User(ctx, owner)
		if err == nil && !u.Disabled {
			return []governance.User{u}, nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	return db.UsersWithRole(ctx, governance.AuthorityOrg, governance.Saksbehandler)
}
