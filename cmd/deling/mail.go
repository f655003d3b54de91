package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"deling/internal/governance"
	"deling/internal/job"
	"deling/internal/mail"
	"deling/internal/post"
	"deling/internal/store"
)

// smtpPasswordEnv holds the SMTP password: never a flag, so that it stays out of process listings.
const smtpPasswordEnv = "DELING_SMTP_PASSWORD"

// mailOptions are serve's e-mail flags (notices, reminders, written notices).
type mailOptions struct {
	smtp string // host:port; empty keeps mail in the outbox
	user string // AUTH PLAIN user; the password is $DELING_SMTP_PASSWORD
	from string
	// getenv reads the password; nil means os.Getenv.
	getenv func(string) string
	// rules holds RemindEvery; zero fields take the defaults.
	rules governance.Settings
}

func (o *mailOptions) bind(fs *flag.FlagSet) {
	fs.StringVar(&o.smtp, "smtp", "", "SMTP server HOST:PORT for e-mail (notices, reminders, written notices); empty keeps e-mail in the outbox")
	fs.StringVar(&o.user, "smtp-user", "", "SMTP AUTH user; the password is read from $"+smtpPasswordEnv)
	fs.StringVar(&o.from, "mail-from", "deling@localhost", "sender address of deling's e-mail")
}

// How the outbox is delivered.
const (
	mailEvery       = 10 * time.Second
	mailBatch       = 100
	mailMaxAttempts = 10
	// remindInterval is how often the reminder job looks; each consumer is
	// reminded at most once per Settings.RemindEvery.
	remindInterval = 24 * time.Hour
)

// mailJobs are the background jobs that deliver the outbox and send reminders.
func mailJobs(db *store.DB, log *slog.Logger, o mailOptions, baseURL string) []job.Job {
	var jobs []job.Job
	if o.smtp == "" {
		log.Warn("no --smtp: e-mail stays in the outbox until deling is started with an SMTP server")
	} else if deliver, err := deliverJob(db, log, o); err != nil {
		log.Error("e-mail is off", "err", err)
	} else {
		jobs = append(jobs, deliver)
	}
	return append(jobs, subscribeReminderJob(db, log, o.rules.WithDefaults().RemindEvery, baseURL))
}

// deliverJob sends the outbox every mailEvery: a letter the server refuses is
// tried again at the next round, up to mailMaxAttempts times.
func deliverJob(db *store.DB, log *slog.Logger, o mailOptions) (job.Job, error) {
	getenv := o.getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	sender, err := mail.NewSender(mail.Config{Addr: o.smtp, User: o.user, Password: getenv(smtpPasswordEnv), From: o.from})
	if err != nil {
		return job.Job{}, err
	}
	return job.Job{Name: "deliver e-mail", Interval: mailEvery, Run: func(ctx context.Context) error {
		for {
			n, err := sender.Deliver(ctx, db, mailBatch, mailMaxAttempts)
			if n > 0 {
				log.Info("e-mail sent", "letters", n)
			}
			if err != nil || n < mailBatch {
				return err
			}
		}
	}}, nil
}

// subscribeReminderJob reminds each active consumer with access but no
// contact subscribing to notices, at most once per every, until it
// subscribes (Rule AA-20: every consumer must subscribe). The letter goes to
// its contacts, or with none to its administrators.
func subscribeReminderJob(db *store.DB, log *slog.Logger, every time.Duration, baseURL string) job.Job {
	base := strings.TrimRight(baseURL, "/")
	return job.Job{Name: "remind consumers to subscribe to notices", Interval: remindInterval, Run: func(ctx context.Context) error {
		us, err := db.UnsubscribedConsumers(ctx)
		if err != nil {
			return err
		}
		reminded := 0
		for _, u := range us {
			ok, err := db.RemindToSubscribe(ctx, u.Consumer.Orgnr, every, subscribeReminder(u.Consumer.Navn, u.Consumer.Orgnr, base, every))
			if err != nil {
				return fmt.Errorf("remind %s: %w", u.Consumer.Orgnr, err)
			}
			if ok {
				reminded++
			}
		}
		if reminded > 0 {
			log.Info("reminded consumers to subscribe to notices", "consumers", reminded)
		}
		return nil
	}}
}

// subscribeReminder is the reminder letter (Rule AA-20).
func subscribeReminder(navn, orgnr, base string, every time.Duration) governance.Letter {
	body := fmt.Sprintf(`Hei,

%s (%s) har tilgang til Aa-registeret, men ingen av kontaktpersonene deres abonnerer på driftsmeldinger.
Etter vilkårene skal hver konsument abonnere. Slik får dere vite om planlagt nedetid, endringer i API-et og nye vilkår i tide.

Velg at minst én kontaktperson skal få driftsmeldinger på e-post, under Kontaktpersoner i portalen:
%s/portal/kontakter

Meldingene står også på %s/driftsmeldinger og i Atom-strømmen %s/driftsmeldinger.atom.

Dere får denne påminnelsen hver %d. dag til dere abonnerer.

Vennlig hilsen
Aa-registeret
`, navn, orgnr, base, base, base, max(1, int(every.Hours()/24)))
	return governance.Letter{Kind: governance.LetterRemindSubscribe, Subject: "Påminnelse: abonner på driftsmeldinger fra Aa-registeret", Body: body}
}

// postJob publishes digital post whose publish time has come and sends its
// notifications and re-notifications through the outbox (Rule DPV-06).
func postJob(db *store.DB) job.Job {
	return job.Job{Name: "publish digital post and notify", Interval: time.Minute, Run: func(ctx context.Context) error {
		_, err := db.PublishDue(ctx, post.DefaultNotify())
		return err
	}}
}
