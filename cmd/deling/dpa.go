package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"deling/internal/dpa"
	"deling/internal/governance"
	"deling/internal/job"
	"deling/internal/store"
)

// deletionReminderJob reminds of ended data processing agreements' deletion
// deadline (Rule DPA-10): before it, the processor's contacts at each of
// dpa.DefaultDeletionReminders; once overdue, the controller's contacts and
// the register's case workers, flagged. It looks every ten minutes; each
// reminder goes out once, also over restarts and on several nodes
// (store.RemindDeletion).
func deletionReminderJob(db *store.DB, log *slog.Logger, baseURL string) job.Job {
	return job.Job{Name: "data processing agreement deletion reminders", Interval: 10 * time.Minute, Run: func(ctx context.Context) error {
		n, err := remindDeletions(ctx, db, dpa.DefaultDeletionReminders(), baseURL, time.Now())
		if n > 0 {
			log.Info("deletion reminders sent", "agreements", n)
		}
		return err
	}}
}

// remindDeletions sends the deletion reminders due at now and returns for how many agreements.
func remindDeletions(ctx context.Context, db *store.DB, before []time.Duration, baseURL string, now time.Time) (int, error) {
	as, err := db.EndedAgreements(ctx)
	if err != nil {
		return 0, err
	}
	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, a := range as {
		due := a.RemindersDue(before, a.RemindedTo, now)
		if len(due) == 0 {
			continue
		}
		deadline := governance.FormatTime(a.Ending.DeletionDue, oslo)
		link := fmt.Sprintf("%s/portal/databehandleravtaler/%s", baseURL, a.ID)
		var letters []governance.Letter
		note := daysBefore(int(due[0].Before.Hours() / 24))
		if due[0].Overdue {
			// Rule DPA-10: overdue ones are flagged to the controller and the register.
			note = "fristen er passert"
			body := fmt.Sprintf("Databehandleravtalen mellom %s (behandlingsansvarlig) og %s (databehandler) ble avsluttet. "+
				"Databehandleren skulle ha slettet eller tilbakelevert alle opplysninger, også sikkerhetskopier, og bekreftet det skriftlig innen %s. "+
				"Bekreftelsen er ikke mottatt.\n\nSe avtalen her:\n%s\n", a.Controller, a.Processor, deadline, link)
			subject := "Fristen for slettebekreftelse er passert"
			letters = append(letters, governance.Letter{Consumer: a.Controller, Kind: "dpa.deletion.overdue", Subject: subject, Body: body})
			cws, err := db.UsersWithRole(ctx, governance.AuthorityOrg, governance.Saksbehandler)
			if err != nil {
				return sent, err
			}
			// The case workers' copies concern no consumer: the controller's
			// letters never show the register's staff's addresses.
			for _, u := range cws {
				letters = append(letters, governance.Letter{Kind: "dpa.deletion.overdue", To: u.Email, Subject: subject, Body: body})
			}
		} else {
			letters = append(letters, governance.Letter{Consumer: a.Processor, Kind: "dpa.deletion.reminder",
				Subject: "Påminnelse: frist for sletting etter avsluttet databehandleravtale " + deadline,
				Body: fmt.Sprintf("Databehandleravtalen med %s er avsluttet. Alle personopplysninger, også sikkerhetskopier, skal slettes eller "+
					"tilbakeleveres, og slettingen bekreftes skriftlig av rolleinnehaver innen %s.\n\nBekreft slettingen her:\n%s\n",
					a.Controller, deadline, link)})
		}
		ok, err := db.RemindDeletion(ctx, a.ID, a.RemindedTo, now, letters, note)
		if err != nil {
			return sent, err
		}
		if ok {
			sent++
		}
	}
	return sent, nil
}

// daysBefore is a reminder's note: how many days before the deadline, in Norwegian.
func daysBefore(n int) string {
	if n == 1 {
		return "1 dag før fristen"
	}
	return fmt.Sprintf("%d dager før fristen", n)
}

// lapsedDelegationsJob ends the delegations resting on an agreement whose
// term (gjelderTil) has run out (Rule SK-04; store.EndLapsedDelegations).
// A delegation made under a term ends by its own end date; this reaches
// those stored before delegations were cut to the term.
func lapsedDelegationsJob(db *store.DB, log *slog.Logger) job.Job {
	return job.Job{Name: "delegations of lapsed data processing agreements", Interval: 10 * time.Minute, Run: func(ctx context.Context) error {
		n, err := db.EndLapsedDelegations(ctx, time.Now())
		if n > 0 {
			log.Info("delegations ended with their agreement's term", "delegations", n)
		}
		return err
	}}
}
